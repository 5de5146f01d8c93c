import { classifyFailure, describeError } from '@herald/amqp';
import { EventRoutingKeys, MessageTypes, createMessage, type WorkflowSendMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { sendWorkflowStep } from './domain/send-step';

/**
 * The workflows service's `workflow.send`: one notification for a run's
 * channel step, stored once. A send refused for good (the sender's key
 * revoked or expired, the user disabled, an unknown category, a template
 * gone, a recipient the sender may not notify…) is answered with
 * `workflow.step.refused`, so the run ends `failed` with the reason instead
 * of believing it sent; the message is then acknowledged, the answer being
 * its outcome. The answer is published (with a broker confirm) before the
 * ack: a failed publish throws, and the send is retried and refused again.
 * Transient failures (a database blip) are retried as before.
 */
export async function onWorkflowSend(ctx: ServiceContext, message: WorkflowSendMessage): Promise<void> {
  try {
    await sendWorkflowStep(ctx, message);
  } catch (error) {
    if (classifyFailure(error) !== 'permanent') throw error;
    const { code, message: reason } = describeError(error);
    const { payload } = message;
    const refusal = createMessage(
      MessageTypes.workflowStepRefused,
      {
        runId: payload.runId,
        stepId: payload.stepId,
        notificationId: payload.notificationId,
        code: code.slice(0, 64) || 'refused',
        reason: reason.slice(0, 500),
        at: ctx.now().toISOString(),
      },
      { correlationId: message.correlationId },
    );
    await ctx.amqp.publish(ctx.amqp.names.exchanges.events, EventRoutingKeys.workflowStepRefused, refusal);
    ctx.log.warn(
      { runId: payload.runId, stepId: payload.stepId, notificationId: payload.notificationId, code },
      'workflow step refused; the run is told',
    );
  }
}
