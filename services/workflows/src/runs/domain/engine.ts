import { Types } from 'mongoose';
import { EventRoutingKeys, MessageTypes, createMessage } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { durationMs, valueAt } from '../../kernel/durations';
import {
  END,
  isEngagementEvent,
  type BranchStep,
  type CancelOnStep,
  type ChannelStep,
  type DelayStep,
  type DigestStep,
  type EngagementEvent,
  type StepDefinition,
  type ThrottleStep,
} from '../../definitions/domain/types';
import {
  announce,
  type RunEngagement,
  type RunRecord,
  type RunSend,
  type RunStatus,
  type StepOutcome,
} from '../data/run-model';
import { closeDigest, enterDigest } from './digest';
import { passThrottle } from './throttle';

/*
 * Advancing a run: the caller holds the run's lease (`claimRun`); each step
 * is executed and its transition written with a filter on the lease and on
 * the run still being active, so a run cancelled meanwhile, or taken over by
 * another instance after our lease lapsed, is left alone from the next write
 * on. A step waiting for time writes `wakeAt` and releases the lease: the
 * timer is that field, and whichever poller sees it due goes on.
 *
 * A channel step picks its notification id and stores it before publishing
 * `workflow.send`: fired again (a crash between publish and record, a lease
 * lapsed mid-step), it publishes the same id, and the notification service
 * stores and sends that notification once.
 */

type Transition =
  | {
      kind: 'move';
      to: number;
      outcome?: StepOutcome;
      set?: Record<string, unknown>;
      push?: Record<string, unknown>;
    }
  | { kind: 'wait'; until: Date; outcome?: StepOutcome; waiting: NonNullable<RunRecord['waiting']> }
  | { kind: 'end'; status: RunStatus; outcome?: StepOutcome; set?: Record<string, unknown> };

export function runData(run: Pick<RunRecord, 'dataJson'>): Record<string, unknown> {
  return JSON.parse(run.dataJson) as Record<string, unknown>;
}

/** The time at a path of the data (an ISO string or epoch milliseconds), or undefined when it is not one. */
export function timeAt(data: Record<string, unknown>, path: string): Date | undefined {
  const value = valueAt(data, path);
  const parsed = typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
}

/** A branch's data condition: `equals` (as JSON), `exists`, or else the value's truthiness. */
export function dataConditionHolds(
  condition: Exclude<BranchStep['if'], { event: unknown }>,
  data: Record<string, unknown>,
): boolean {
  const value = valueAt(data, condition.data);
  if ('equals' in condition) return JSON.stringify(value) === JSON.stringify(condition.equals);
  if (condition.exists !== undefined) return (value !== undefined) === condition.exists;
  return Boolean(value);
}

/** The index of a jump target (`end` is past the last step); the following step when none is given. */
function indexOf(run: RunRecord, target: string | undefined, from: number): number {
  if (target === undefined) return from + 1;
  if (target === END) return run.steps.length;
  const at = run.steps.findIndex((step) => step.id === target);
  return at === -1 ? run.steps.length : at;
}

/** Whether an engagement of `kind` satisfies a wait for `event`: a read notification was seen and delivered. */
export function satisfies(kind: RunEngagement['kind'], event: EngagementEvent): boolean {
  if (event === 'read') return kind === 'read';
  if (event === 'seen') return kind === 'seen' || kind === 'read';
  return true;
}

function happened(run: RunRecord, stepId: string, event: EngagementEvent): boolean {
  const sent = run.sends.find((send) => send.stepId === stepId);
  return (
    !!sent &&
    run.engagement.some((one) => one.notificationId === sent.notificationId && satisfies(one.kind, event))
  );
}

/** Claims a due, unleased active run (`filter` narrows it, e.g. to one id) for `owner`. */
export async function claimRun(
  ctx: ServiceContext,
  owner: string,
  filter: Record<string, unknown> = {},
): Promise<RunRecord | null> {
  const now = ctx.now();
  return ctx.models.runs
    .findOneAndUpdate(
      {
        ...filter,
        wakeAt: { $lte: now },
        status: 'active',
        $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
      },
      { $set: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + ctx.settings.leaseMs) } },
      { sort: { wakeAt: 1 }, returnDocument: 'after' },
    )
    .lean<RunRecord>();
}

class Lost extends Error {}

async function write(ctx: ServiceContext, run: RunRecord, owner: string, update: object): Promise<RunRecord> {
  const next = await ctx.models.runs
    .findOneAndUpdate({ _id: run._id, status: 'active', leaseOwner: owner }, update, {
      returnDocument: 'after',
    })
    .lean<RunRecord>();
  // cancelled meanwhile, or our lease lapsed and another instance has the run: stop here
  if (!next) throw new Lost();
  return next;
}

function outcome(
  step: StepDefinition,
  what: string,
  at: Date,
  extra: Partial<StepOutcome> = {},
): StepOutcome {
  return { stepId: step.id, type: step.type, outcome: what, at, ...extra };
}

async function channelStep(
  ctx: ServiceContext,
  run: RunRecord,
  step: ChannelStep,
  owner: string,
  at: number,
) {
  let current = run;
  let send: RunSend | undefined = run.sends.find((one) => one.stepId === step.id);
  if (!send) {
    send = { stepId: step.id, channel: step.channel, notificationId: new Types.ObjectId().toHexString() };
    current = await write(ctx, run, owner, { $push: { sends: send }, $set: { updatedAt: ctx.now() } });
  }
  const data = runData(current);
  const digest = current.digest?.events;
  const message = createMessage(
    MessageTypes.workflowSend,
    {
      notificationId: send.notificationId,
      runId: current._id.toHexString(),
      stepId: step.id,
      workflowKey: current.workflowKey,
      sender: current.sender,
      recipient: current.recipient,
      channel: step.channel,
      template: {
        key: step.template,
        data: digest
          ? { ...data, events: digest.map((event) => event.data), eventCount: digest.length }
          : data,
      },
      ...(current.category ? { category: current.category } : {}),
      ...(current.transactionId ? { transactionId: current.transactionId } : {}),
    },
    { correlationId: `run:${current._id.toHexString()}` },
  );
  await ctx.amqp.publish(ctx.amqp.names.exchanges.events, EventRoutingKeys.workflowSend, message);
  const transition: Transition = {
    kind: 'move',
    to: indexOf(current, step.next, at),
    outcome: outcome(step, 'sent', ctx.now(), { notificationId: send.notificationId }),
  };
  return { run: current, transition };
}

function delayStep(run: RunRecord, step: DelayStep, now: Date, at: number): Transition {
  if (run.waiting?.stepId === step.id) {
    if (now >= run.waiting.until)
      return { kind: 'move', to: indexOf(run, step.next, at), outcome: outcome(step, 'resumed', now) };
    return { kind: 'wait', until: run.waiting.until, waiting: run.waiting };
  }
  let until: Date | undefined;
  if (step.duration) until = new Date(now.getTime() + durationMs(step.duration)!);
  else {
    const parsed = timeAt(runData(run), step.until!);
    if (!parsed) {
      return {
        kind: 'move',
        to: indexOf(run, step.next, at),
        outcome: outcome(step, 'skipped', now, { detail: `data ${step.until} is not a time` }),
      };
    }
    until = parsed;
  }
  if (until <= now)
    return { kind: 'move', to: indexOf(run, step.next, at), outcome: outcome(step, 'resumed', now) };
  return {
    kind: 'wait',
    until,
    waiting: { stepId: step.id, until },
    outcome: outcome(step, 'waiting', now, { detail: `until ${until.toISOString()}` }),
  };
}

async function digestStep(
  ctx: ServiceContext,
  run: RunRecord,
  step: DigestStep,
  now: Date,
  at: number,
): Promise<Transition> {
  const waiting = run.waiting?.stepId === step.id ? run.waiting : undefined;
  if (waiting?.bucketId) {
    if (now < waiting.until) return { kind: 'wait', until: waiting.until, waiting };
    const closed = await closeDigest(ctx, run, waiting.bucketId);
    const events = closed.kind === 'closed' ? closed.events : [];
    return {
      kind: 'move',
      to: indexOf(run, step.next, at),
      set: { digest: { events } },
      outcome: outcome(step, 'closed', now, { detail: `${events.length} events` }),
    };
  }
  const entered = await enterDigest(ctx, run, step, runData(run));
  if (entered.kind === 'joined') {
    return {
      kind: 'end',
      status: 'digested',
      set: { digestedInto: entered.owner },
      outcome: outcome(step, 'joined', now, { detail: `digested into run ${entered.owner}` }),
    };
  }
  if (entered.kind !== 'opened') throw new Error('a digest entry neither joined nor opened');
  return {
    kind: 'wait',
    until: entered.until,
    waiting: { stepId: step.id, until: entered.until, bucketId: entered.bucketId },
    outcome: outcome(step, 'opened', now, { detail: `window until ${entered.until.toISOString()}` }),
  };
}

async function throttleStep(
  ctx: ServiceContext,
  run: RunRecord,
  step: ThrottleStep,
  now: Date,
  at: number,
): Promise<Transition> {
  const allowed = await passThrottle(ctx, run, step, runData(run));
  if (allowed)
    return { kind: 'move', to: indexOf(run, step.next, at), outcome: outcome(step, 'allowed', now) };
  return {
    kind: 'end',
    status: 'throttled',
    outcome: outcome(step, 'throttled', now, { detail: `over ${step.limit} per ${step.window}` }),
  };
}

function branchStep(run: RunRecord, step: BranchStep, now: Date, at: number): Transition {
  const condition = step.if;
  const holds =
    'event' in condition
      ? happened(run, condition.step, condition.event)
      : dataConditionHolds(condition, runData(run));
  const target = holds ? (step.then ?? step.next) : (step.else ?? step.next);
  return { kind: 'move', to: indexOf(run, target, at), outcome: outcome(step, holds ? 'then' : 'else', now) };
}

function cancelOnStep(run: RunRecord, step: CancelOnStep, now: Date, at: number): Transition {
  if (!isEngagementEvent(step.event)) {
    // an application's event: armed from here on, for `POST /workflows/events`
    return {
      kind: 'move',
      to: indexOf(run, step.next, at),
      push: { cancelOn: { event: step.event, stepId: step.id, custom: true } },
      outcome: outcome(step, 'armed', now, { detail: `event ${step.event}` }),
    };
  }
  if (happened(run, step.step!, step.event)) {
    return {
      kind: 'end',
      status: 'cancelled',
      outcome: outcome(step, 'cancelled', now, { detail: step.event }),
    };
  }
  return {
    kind: 'move',
    to: indexOf(run, step.next, at),
    push: { cancelOn: { event: step.event, stepId: step.step! } },
    outcome: outcome(step, 'armed', now, { detail: `${step.event} of ${step.step}` }),
  };
}

async function apply(
  ctx: ServiceContext,
  run: RunRecord,
  owner: string,
  transition: Transition,
): Promise<RunRecord> {
  const now = ctx.now();
  const history = transition.outcome ? { history: transition.outcome } : {};
  if (transition.kind === 'move') {
    return write(ctx, run, owner, {
      $set: { position: transition.to, waiting: null, updatedAt: now, ...transition.set },
      ...(transition.outcome || transition.push ? { $push: { ...history, ...transition.push } } : {}),
    });
  }
  if (transition.kind === 'wait') {
    return write(ctx, run, owner, {
      $set: {
        wakeAt: transition.until,
        waiting: transition.waiting,
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: now,
      },
      ...(transition.outcome ? { $push: history } : {}),
    });
  }
  return write(ctx, run, owner, {
    $set: {
      status: transition.status,
      wakeAt: null,
      waiting: null,
      leaseOwner: null,
      leaseUntil: null,
      endedAt: now,
      updatedAt: now,
      ...transition.set,
    },
    // the announcement of the end, in the same write: the relay publishes it
    $push: { ...history, ...announce(transition.status, now) },
  });
}

/**
 * Runs a claimed run's steps until it waits or ends. Returns the run as
 * last written, or null when it was lost (cancelled, or taken over).
 */
export async function advanceRun(
  ctx: ServiceContext,
  claimed: RunRecord,
  owner: string,
): Promise<RunRecord | null> {
  let run = claimed;
  try {
    for (let guard = 0; guard <= run.steps.length; guard++) {
      const at = run.position;
      if (at >= run.steps.length) return await apply(ctx, run, owner, { kind: 'end', status: 'completed' });
      const step = run.steps[at] as unknown as StepDefinition;
      const now = ctx.now();
      let transition: Transition;
      switch (step.type) {
        case 'channel': {
          const sent = await channelStep(ctx, run, step, owner, at);
          run = sent.run;
          transition = sent.transition;
          break;
        }
        case 'delay':
          transition = delayStep(run, step, now, at);
          break;
        case 'digest':
          transition = await digestStep(ctx, run, step, now, at);
          break;
        case 'throttle':
          transition = await throttleStep(ctx, run, step, now, at);
          break;
        case 'branch':
          transition = branchStep(run, step, now, at);
          break;
        case 'cancel-on':
          transition = cancelOnStep(run, step, now, at);
          break;
      }
      run = await apply(ctx, run, owner, transition);
      if (transition.kind !== 'move') return run;
    }
    // definitions have no cycles, so a run ends within as many moves as it has steps
    return await apply(ctx, run, owner, { kind: 'end', status: 'failed', outcome: undefined });
  } catch (error) {
    if (error instanceof Lost) return null;
    throw error;
  }
}
