import { NotFoundError, ValidationError } from '@herald/runtime';
import { type ServiceContext } from '../../kernel/context';
import { durationMs, valueAt } from '../../kernel/durations';
import { dataConditionHolds, timeAt } from '../../runs/domain/engine';
import { MAX_DATA_BYTES } from '../../runs/domain/trigger';
import { type WorkflowVersionRecord } from '../data/definition-model';
import { checkedSteps, workflowNotFound } from './definitions';
import { END, isEngagementEvent, type DefinitionInput, type StepDefinition } from './types';

/*
 * A definition's plan, without sending or storing anything: the steps are
 * validated as `POST /workflows` validates them (the same 400 naming the
 * step), then one run is walked from `startAt` with the sample data, as the
 * engine would walk it: each step says what it would do and when (a delay
 * resolved to a time, a digest's window end, a throttle's limit, a branch's
 * data condition evaluated on the data, a channel and its template). What
 * only a real run can know is assumed and said so: an engagement (read,
 * seen, delivered) has not happened, a throttle is under its limit, this
 * run opens its digest window, no cancel-on fires. Steps the walk does not
 * reach are listed with `reached: false`.
 */

export interface PlannedStep {
  id: string;
  type: string;
  reached: boolean;
  /** when the step runs (its start); absent when not reached */
  at?: string;
  /** what it would do, in words */
  does: string;
  channel?: string;
  template?: string;
  /** a delay's end, or a digest window's end */
  until?: string;
  /** a digest's or throttle's key, as read from the sample data (null: absent) */
  keyValue?: unknown;
  limit?: number;
  window?: string;
  /** a branch: whether its condition holds on the sample data (null: an engagement, assumed not happened) */
  holds?: boolean | null;
  /** where the step goes next on this walk (`end` finishes the run) */
  goesTo?: string;
}

export interface Plan {
  startAt: string;
  /** when the walked run would end */
  endsAt: string;
  /** the steps in the order the walk runs them */
  path: string[];
  /** every step of the definition, in definition order */
  steps: PlannedStep[];
}

export interface PreviewInput {
  data?: Record<string, unknown>;
  startAt?: string;
}

function checkData(data: Record<string, unknown>): void {
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) {
    throw new ValidationError('The request is invalid', [
      { field: '/body/data', message: `must be at most ${MAX_DATA_BYTES} bytes as JSON` },
    ]);
  }
}

/** Walks the steps from `start` with `data`; pure, so the plan is what the engine's rules say. */
export function planSteps(steps: StepDefinition[], data: Record<string, unknown>, start: Date): Plan {
  const index = new Map(steps.map((step, at) => [step.id, at]));
  const target = (id: string | undefined, from: number): number =>
    id === undefined ? from + 1 : id === END ? steps.length : (index.get(id) ?? steps.length);
  const nameOf = (at: number) => steps[at]?.id ?? END;
  const planned = new Map<string, PlannedStep>();
  const path: string[] = [];
  let time = start.getTime();
  let at = 0;
  // definitions have no cycles: a walk visits each step at most once
  while (at < steps.length && !planned.has(steps[at]!.id)) {
    const step = steps[at]!;
    const entry: PlannedStep = {
      id: step.id,
      type: step.type,
      reached: true,
      at: new Date(time).toISOString(),
      does: '',
    };
    let next = target(step.next, at);
    switch (step.type) {
      case 'channel':
        Object.assign(entry, {
          channel: step.channel,
          template: step.template,
          does: `sends one ${step.channel} notification rendered from template "${step.template}"`,
        });
        break;
      case 'delay': {
        const until = step.duration ? new Date(time + durationMs(step.duration)!) : timeAt(data, step.until!);
        if (!until) entry.does = `skipped: data ${step.until} is not a time`;
        else {
          if (until.getTime() > time) time = until.getTime();
          entry.until = new Date(time).toISOString();
          entry.does = step.duration ? `waits ${step.duration}` : `waits until data ${step.until}`;
        }
        break;
      }
      case 'digest': {
        time += durationMs(step.window)!;
        Object.assign(entry, {
          until: new Date(time).toISOString(),
          keyValue: valueAt(data, step.key) ?? null,
          window: step.window,
          does: `opens a ${step.window} digest window for key ${step.key} (assumed the first run of it): runs of this workflow for the same recipient and key until then join this one, which goes on with every event`,
        });
        break;
      }
      case 'throttle':
        Object.assign(entry, {
          limit: step.limit,
          window: step.window,
          ...(step.key ? { keyValue: valueAt(data, step.key) ?? null } : {}),
          does: `lets at most ${step.limit} runs per ${step.window} per recipient${step.key ? ` and ${step.key}` : ''} go on (assumed under the limit); the rest end throttled`,
        });
        break;
      case 'branch': {
        const condition = step.if;
        const holds = 'event' in condition ? null : dataConditionHolds(condition, data);
        next = target(holds ? (step.then ?? step.next) : (step.else ?? step.next), at);
        entry.holds = holds;
        entry.does =
          'event' in condition
            ? `goes to ${nameOf(target(step.then ?? step.next, at))} if the notification of "${condition.step}" was ${condition.event}, else to ${nameOf(target(step.else ?? step.next, at))} (assumed not ${condition.event})`
            : `data ${condition.data} ${holds ? 'holds' : 'does not hold'}: goes to ${nameOf(next)}`;
        break;
      }
      case 'cancel-on':
        entry.does = isEngagementEvent(step.event)
          ? `from here on, the run is cancelled when the notification of "${step.step}" is ${step.event}`
          : `from here on, the run is cancelled when the application posts event "${step.event}" for the recipient`;
        break;
    }
    entry.goesTo = nameOf(next);
    planned.set(step.id, entry);
    path.push(step.id);
    at = next;
  }
  return {
    startAt: start.toISOString(),
    endsAt: new Date(time).toISOString(),
    path,
    steps: steps.map(
      (step) =>
        planned.get(step.id) ?? {
          id: step.id,
          type: step.type,
          reached: false,
          does: 'not reached with this data',
        },
    ),
  };
}

/** `POST /workflows/preview`: an unsaved definition's plan (400 naming the step, as a save). */
export async function previewDefinition(
  ctx: ServiceContext,
  definition: DefinitionInput,
  input: PreviewInput,
): Promise<Plan> {
  const data = input.data ?? {};
  checkData(data);
  const steps = await checkedSteps(ctx, definition);
  return planSteps(steps, data, input.startAt ? new Date(input.startAt) : ctx.now());
}

/** `POST /workflows/{key}/preview`: a saved version's plan (the current one by default). */
export async function previewVersion(
  ctx: ServiceContext,
  key: string,
  input: PreviewInput & { version?: number },
): Promise<Plan & { key: string; version: number }> {
  const data = input.data ?? {};
  checkData(data);
  const head = await ctx.models.workflows.findOne({ _id: key, deletedAt: null }).lean();
  if (!head) throw workflowNotFound(key);
  const version = input.version ?? head.version;
  const stored = await ctx.models.versions.findById(`${key}@${version}`).lean<WorkflowVersionRecord>();
  if (!stored) {
    throw new NotFoundError('workflow_version_not_found', `No version ${version} of workflow "${key}"`);
  }
  const steps = stored.steps as unknown as StepDefinition[];
  return { key, version, ...planSteps(steps, data, input.startAt ? new Date(input.startAt) : ctx.now()) };
}
