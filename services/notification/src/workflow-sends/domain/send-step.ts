import { Types } from 'mongoose';
import { PermanentError } from '@herald/runtime';
import { NEVER, type AuthenticatedUser } from '@herald/runtime/http';
import { type WorkflowSendMessage, type WorkflowSender } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { createNotification } from '../../notifications/domain/create-notification';

/*
 * A workflow run's channel step, as the workflows service asks for it
 * (`workflow.send`): one notification, rendered from the step's template,
 * under the id the run chose and stored before publishing. A step fired
 * twice (the workflows process died between publishing and recording it,
 * or the broker redelivered the message) names the same id: the insert
 * meets it and the stored notification is the answer, so nothing is sent
 * twice.
 */

/**
 * The principal the run was triggered by, as this service knows it now: an
 * API key revoked (or a user disabled) since the trigger sends nothing. The
 * scopes are the key's current ones, never what the message says.
 */
async function currentSender(ctx: ServiceContext, sender: WorkflowSender): Promise<AuthenticatedUser> {
  const base = { kind: sender.kind, id: sender.id, emailVerified: false, tokenExpiresAt: NEVER };
  if (sender.kind === 'apikey') {
    const key = await ctx.apiKeys.lookup(sender.id);
    const now = ctx.now();
    if (!key || (key.revokedAt && key.revokedAt <= now) || (key.expiresAt && key.expiresAt <= now)) {
      throw new PermanentError('sender_key_invalid', `API key ${sender.id} is unknown, revoked or expired`);
    }
    const admin = key.scopes.includes('admin');
    return { ...base, role: admin ? 'admin' : 'user', scopes: key.scopes };
  }
  const user = await ctx.userDirectory.byId(sender.id);
  if (!user || user.disabled) {
    throw new PermanentError('sender_unknown', `User ${sender.id} is unknown or disabled`);
  }
  return { ...base, role: user.role === 'admin' ? 'admin' : 'user', scopes: sender.scopes };
}

/** `workflow.send`: stores (once) and sends the step's notification. */
export async function sendWorkflowStep(ctx: ServiceContext, message: WorkflowSendMessage): Promise<string> {
  const { payload } = message;
  const sender = await currentSender(ctx, payload.sender);
  const accepted = await createNotification(
    ctx,
    sender,
    {
      recipient: payload.recipient,
      channels: [payload.channel],
      template: payload.template,
      ...(payload.category ? { category: payload.category } : {}),
      ...(payload.transactionId ? { transactionId: payload.transactionId } : {}),
    },
    {
      correlationId: message.correlationId,
      id: new Types.ObjectId(payload.notificationId),
      workflowRunId: payload.runId,
    },
  );
  ctx.log.info(
    { notificationId: accepted.id, runId: payload.runId, stepId: payload.stepId },
    'workflow step notification stored',
  );
  return accepted.id;
}
