import {
  type EventWebhookType,
  type WorkflowRunChangedPayload,
  type WorkflowRunStatus,
} from '@herald/contracts';
import { type EventSubject, type OutgoingEvent } from './recorder';

/**
 * Which run statuses are an outgoing event. A run that ends `throttled`
 * (over a throttle's limit) or `digested` (gathered into another run's
 * digest) did not fail and did not complete: no event (yet).
 */
const eventOfRunStatus: Partial<Record<WorkflowRunStatus, EventWebhookType>> = {
  active: 'workflow.run.started',
  completed: 'workflow.run.completed',
  cancelled: 'workflow.run.cancelled',
  failed: 'workflow.run.failed',
};

export function webhookTypeOfRunStatus(status: WorkflowRunStatus): EventWebhookType | undefined {
  return eventOfRunStatus[status];
}

/**
 * A run's change as an event: its subject is the run (its id orders its
 * events, its sender and category route them as a notification's do), its
 * key the status (a run reaches each status once), its data the run summary.
 */
export function runChangeEvent(
  payload: WorkflowRunChangedPayload,
): { subject: EventSubject; event: OutgoingEvent } | undefined {
  const type = webhookTypeOfRunStatus(payload.status);
  if (!type) return undefined;
  return {
    subject: {
      notificationId: payload.runId,
      kind: 'run',
      senderId: payload.senderId,
      ...(payload.category ? { category: payload.category } : {}),
    },
    event: {
      type,
      key: payload.status,
      at: payload.at,
      data: {
        runId: payload.runId,
        workflowKey: payload.workflowKey,
        workflowVersion: payload.workflowVersion,
        status: payload.status,
        ...(payload.transactionId ? { transactionId: payload.transactionId } : {}),
        recipient: payload.recipient,
        notificationIds: payload.notificationIds,
        startedAt: payload.startedAt,
      },
    },
  };
}
