import { type WorkflowRunChangedMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { runChangeEvent } from './domain/run-events';

/**
 * The workflows service's `workflow.run.changed`: recorded as durable
 * deliveries for the endpoints that want it before the message is acked.
 * A redelivery records the same webhook ids, which are kept once.
 */
export async function onWorkflowRunChanged(
  ctx: ServiceContext,
  message: WorkflowRunChangedMessage,
): Promise<void> {
  const change = runChangeEvent(message.payload);
  if (!change) return;
  await ctx.eventWebhooks.record(change.subject, [change.event]);
}
