import { type ServiceContext } from '../../kernel/context';
import { announce, type RunEngagement, type RunRecord } from '../data/run-model';
import { isEngagementEvent } from '../../definitions/domain/types';
import { satisfies } from './engine';

/*
 * What became of a run's notifications, from the notification service's
 * own events: `notification.created` (an in-app notification reached the
 * inbox: delivered), and `notification.updated` (read, a delivery status of
 * delivered, an email opened: seen). Branches read them when they run; a
 * `cancel-on` the run has passed cancels it as soon as its event comes.
 * Only the events of notifications a run made reach this service (the
 * notification service sends those on under `workflows.notification.*`);
 * each costs one indexed lookup.
 */

/** Records an engagement on the run that sent `notificationId`, if any, and applies its `cancel-on`. */
export async function recordEngagement(
  ctx: ServiceContext,
  notificationId: string,
  kind: RunEngagement['kind'],
  at: Date,
): Promise<void> {
  const run = await ctx.models.runs
    .findOneAndUpdate(
      { 'sends.notificationId': notificationId },
      { $push: { engagement: { notificationId, kind, at } } },
      { returnDocument: 'after', projection: { status: 1, sends: 1, cancelOn: 1 } },
    )
    .lean<Pick<RunRecord, '_id' | 'status' | 'sends' | 'cancelOn'>>();
  if (!run || run.status !== 'active') return;
  const send = run.sends.find((one) => one.notificationId === notificationId);
  const armed = run.cancelOn.find(
    (one) =>
      !one.custom &&
      isEngagementEvent(one.event) &&
      one.stepId === send?.stepId &&
      satisfies(kind, one.event),
  );
  if (!armed) return;
  const now = ctx.now();
  const cancelled = await ctx.models.runs.updateOne(
    { _id: run._id, status: 'active' },
    {
      $set: {
        status: 'cancelled',
        wakeAt: null,
        waiting: null,
        leaseOwner: null,
        leaseUntil: null,
        endedAt: now,
        updatedAt: now,
      },
      $push: {
        history: { stepId: armed.stepId, type: 'cancel-on', outcome: 'cancelled', at: now, detail: kind },
        ...announce('cancelled', now),
      },
    },
  );
  if (cancelled.modifiedCount === 1) {
    ctx.log.info({ runId: run._id, notificationId, kind }, 'run cancelled by its cancel-on');
  }
}
