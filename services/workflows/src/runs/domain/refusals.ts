import { Types } from 'mongoose';
import { type WorkflowStepRefusedPayload } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { announce } from '../data/run-model';

/*
 * The notification service refused a channel step's `workflow.send` for
 * good (`workflow.step.refused`: the sender's key revoked, an unknown
 * category, a template gone, a recipient the sender may not notify…). No
 * notification exists under the step's id, so the run records the step
 * `refused` with the reason and ends `failed`:
 * - an active run (waiting after the step, or still advancing: the engine's
 *   next write finds it no longer active and stops) ends `failed` at once;
 * - a run that had already `completed` (the refused send was its last step,
 *   and a send is fire-and-forget) is corrected to `failed`: it did not do
 *   what it reported; `workflow.run.failed` follows its `completed`;
 * - a run that ended otherwise (cancelled, digested, throttled) keeps its
 *   status; the refusal is recorded in its history.
 * Applied once per notification: the send is refused again on every
 * redelivery, and the filter on `refusals` makes the repeats no-ops.
 */
export async function recordRefusal(ctx: ServiceContext, refusal: WorkflowStepRefusedPayload): Promise<void> {
  if (!Types.ObjectId.isValid(refusal.runId)) return;
  const now = ctx.now();
  const at = new Date(refusal.at);
  const detail = `${refusal.code}: ${refusal.reason}`.slice(0, 600);
  const entry = {
    stepId: refusal.stepId,
    type: 'channel',
    outcome: 'refused',
    at,
    notificationId: refusal.notificationId,
    detail,
  };
  const base = {
    _id: new Types.ObjectId(refusal.runId),
    'sends.notificationId': refusal.notificationId,
    'refusals.notificationId': { $ne: refusal.notificationId },
  };
  const record = {
    notificationId: refusal.notificationId,
    stepId: refusal.stepId,
    code: refusal.code,
    reason: refusal.reason,
    at,
  };
  const failed = await ctx.models.runs.updateOne(
    { ...base, status: { $in: ['active', 'completed'] } },
    {
      $set: {
        status: 'failed',
        wakeAt: null,
        waiting: null,
        leaseOwner: null,
        leaseUntil: null,
        endedAt: now,
        updatedAt: now,
      },
      $push: { history: entry, refusals: record, ...announce('failed', now) },
    },
  );
  if (failed.modifiedCount === 1) {
    ctx.log.warn(
      { runId: refusal.runId, stepId: refusal.stepId, code: refusal.code },
      'run failed: its step was refused',
    );
    return;
  }
  // ended otherwise (or already recorded): keep the status, note the refusal once
  await ctx.models.runs.updateOne(base, {
    $set: { updatedAt: now },
    $push: { history: entry, refusals: record },
  });
}
