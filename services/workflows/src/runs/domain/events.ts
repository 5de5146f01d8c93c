import { type Types } from 'mongoose';
import { ValidationError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type ServiceContext } from '../../kernel/context';
import { announce, type RunRecord } from '../data/run-model';
import { ownFilter } from './runs';
import { MAX_DATA_BYTES, assertMayTrigger, recipientKeyOf } from './trigger';
import { type ApplicationEventInput } from './types';

/** Runs one event cancels at most (a recipient rarely has more waiting on one key). */
export const MAX_CANCELLED_PER_EVENT = 1_000;

/*
 * `POST /workflows/events`: an application tells that something happened
 * for a recipient (`payment.received` for subscriber `cus-42`). Every active
 * run that has passed a `cancel-on: <that key>` step for that recipient
 * (and, given one, that `transactionId`) ends `cancelled`: nothing it has
 * not done yet happens. Runs are the caller's own: a key reaches only the
 * runs it triggered, an admin anyone's. An event no run waits for changes
 * nothing (it is not stored for runs that arm the key later).
 */
export async function postApplicationEvent(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  input: ApplicationEventInput,
): Promise<{ cancelled: string[] }> {
  assertMayTrigger(principal);
  const data = input.data;
  if (data && Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES) {
    throw new ValidationError('The request is invalid', [
      { field: '/body/data', message: `must be at most ${MAX_DATA_BYTES} bytes as JSON` },
    ]);
  }
  const recipientKey = recipientKeyOf(input.recipient);
  const waiting = await ctx.models.runs
    .find(
      {
        ...ownFilter(principal),
        recipientKey,
        status: 'active',
        cancelOn: { $elemMatch: { event: input.key, custom: true } },
        ...(input.transactionId ? { transactionId: input.transactionId } : {}),
      },
      { _id: 1, cancelOn: 1 },
    )
    .limit(MAX_CANCELLED_PER_EVENT)
    .lean<Pick<RunRecord, '_id' | 'cancelOn'>[]>();
  const cancelled: string[] = [];
  for (const run of waiting) {
    const armed = run.cancelOn.find((one) => one.custom && one.event === input.key);
    const now = ctx.now();
    const done = await ctx.models.runs.updateOne(
      { _id: run._id as Types.ObjectId, status: 'active' },
      {
        $set: {
          status: 'cancelled',
          wakeAt: null,
          waiting: null,
          leaseOwner: null,
          leaseUntil: null,
          endedAt: now,
          updatedAt: now,
          cancelledBy: { event: input.key, ...(data ? { data } : {}), at: now, by: principal.id },
        },
        $push: {
          history: {
            stepId: armed?.stepId ?? '-',
            type: 'cancel-on',
            outcome: 'cancelled',
            at: now,
            detail: `event ${input.key}`,
          },
          ...announce('cancelled', now),
        },
      },
    );
    // a run that ended meanwhile (its last step, another cancel) is left as it ended
    if (done.modifiedCount === 1) cancelled.push(run._id.toHexString());
  }
  if (cancelled.length > 0) {
    ctx.log.info(
      { event: input.key, recipientKey, runs: cancelled.length },
      'runs cancelled by an application event',
    );
  }
  return { cancelled };
}
