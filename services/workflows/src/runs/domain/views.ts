import { type RunRecord } from '../data/run-model';
import { runData } from './engine';
import { type RunDetail, type RunSummary } from './types';

export function runSummary(run: RunRecord): RunSummary {
  return {
    id: run._id.toHexString(),
    workflowKey: run.workflowKey,
    workflowVersion: run.workflowVersion,
    recipient: run.recipient,
    recipientKey: run.recipientKey,
    status: run.status,
    ...(run.transactionId ? { transactionId: run.transactionId } : {}),
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    ...(run.wakeAt ? { wakeAt: run.wakeAt.toISOString() } : {}),
    ...(run.endedAt ? { endedAt: run.endedAt.toISOString() } : {}),
  };
}

const iso = (value: Date | string) => new Date(value).toISOString();

export function runDetail(run: RunRecord): RunDetail {
  return {
    ...runSummary(run),
    data: runData(run),
    ...(run.waiting ? { waiting: { stepId: run.waiting.stepId, until: iso(run.waiting.until) } } : {}),
    steps: run.history.map((entry) => ({
      stepId: entry.stepId,
      type: entry.type,
      outcome: entry.outcome,
      at: iso(entry.at),
      ...(entry.notificationId ? { notificationId: entry.notificationId } : {}),
      ...(entry.detail ? { detail: entry.detail } : {}),
    })),
    notifications: run.sends.map(({ stepId, channel, notificationId }) => {
      const refused = run.refusals?.find((one) => one.notificationId === notificationId);
      return {
        stepId,
        channel,
        notificationId,
        ...(refused ? { refused: { code: refused.code, reason: refused.reason, at: iso(refused.at) } } : {}),
      };
    }),
    engagement: run.engagement.map((one) => ({
      notificationId: one.notificationId,
      kind: one.kind,
      at: iso(one.at),
    })),
    ...(run.digest ? { digest: { eventCount: run.digest.events.length } } : {}),
    ...(run.digestedInto ? { digestedInto: run.digestedInto } : {}),
    ...(run.cancelledBy
      ? {
          cancelledBy: {
            event: run.cancelledBy.event,
            ...(run.cancelledBy.data ? { data: run.cancelledBy.data } : {}),
            at: iso(run.cancelledBy.at),
          },
        }
      : {}),
  };
}
