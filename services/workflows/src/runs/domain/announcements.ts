import { EventRoutingKeys, MessageTypes, createMessage } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { type RunAnnouncement, type RunRecord } from '../data/run-model';

/*
 * The relay of run changes (`workflow.run.changed`, for outgoing webhooks).
 * Every write that changes a run's status pushes the change onto the run's
 * `announcements` in that same write, so a change is never lost to a crash
 * between the write and a publish. The poller's pass then claims runs with
 * pending announcements (a short claim, so one instance publishes a run's
 * changes, oldest first), publishes each with a broker confirm and only then
 * removes it. A publish that fails leaves it, and the ones after it, for a
 * later pass: at least once, in order per run.
 */

function messageOf(run: RunRecord, announcement: RunAnnouncement) {
  const runId = run._id.toHexString();
  return createMessage(
    MessageTypes.workflowRunChanged,
    {
      runId,
      workflowKey: run.workflowKey,
      workflowVersion: run.workflowVersion,
      status: announcement.status,
      senderId: run.sender.id,
      senderKind: run.sender.kind,
      ...(run.category ? { category: run.category } : {}),
      ...(run.transactionId ? { transactionId: run.transactionId } : {}),
      recipient: run.recipientKey,
      notificationIds: run.sends.map((send) => send.notificationId),
      startedAt: run.createdAt.toISOString(),
      at: announcement.at.toISOString(),
    },
    { correlationId: `run:${runId}` },
  );
}

async function claimAnnouncing(ctx: ServiceContext): Promise<RunRecord | null> {
  const now = ctx.now();
  return ctx.models.runs
    .findOneAndUpdate(
      {
        'announcements.status': { $exists: true },
        $or: [{ announceLeaseUntil: null }, { announceLeaseUntil: { $lte: now } }],
      },
      { $set: { announceLeaseUntil: new Date(now.getTime() + ctx.settings.leaseMs) } },
      { returnDocument: 'after' },
    )
    .lean<RunRecord>();
}

/** Publishes one claimed run's pending changes in order; stops at the first that fails. */
async function announceRun(ctx: ServiceContext, run: RunRecord): Promise<void> {
  try {
    for (const announcement of run.announcements ?? []) {
      await ctx.amqp.publish(
        ctx.amqp.names.exchanges.events,
        EventRoutingKeys.workflowRunChanged,
        messageOf(run, announcement),
      );
      // confirmed by the broker: only now is it no longer pending
      await ctx.models.runs.updateOne(
        { _id: run._id },
        { $pull: { announcements: { status: announcement.status } } },
      );
    }
  } finally {
    await ctx.models.runs.updateOne({ _id: run._id }, { $set: { announceLeaseUntil: null } });
  }
}

/**
 * One relay pass: up to `WORKFLOW_BATCH_SIZE` runs with pending changes.
 * Returns the runs whose changes were all published; failures are logged
 * and left pending for the next pass.
 */
export async function relayRunChanges(ctx: ServiceContext): Promise<number> {
  const claimed: RunRecord[] = [];
  while (claimed.length < ctx.settings.batchSize) {
    const run = await claimAnnouncing(ctx);
    if (!run) break;
    claimed.push(run);
  }
  const results = await Promise.allSettled(claimed.map((run) => announceRun(ctx, run)));
  let published = 0;
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') published++;
    else {
      ctx.log.warn(
        { err: result.reason, runId: claimed[index]!._id },
        'announcing a run change failed; it stays pending for the next pass',
      );
    }
  });
  return published;
}
