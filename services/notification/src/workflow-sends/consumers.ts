import { type WorkflowSendMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { sendWorkflowStep } from './domain/send-step';

/** The workflows service's `workflow.send`: one notification for a run's channel step, stored once. */
export async function onWorkflowSend(ctx: ServiceContext, message: WorkflowSendMessage): Promise<void> {
  await sendWorkflowStep(ctx, message);
}
