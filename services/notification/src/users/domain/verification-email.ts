import { type VerificationRequestedMessage } from '@herald/contracts';
import { type UserRecord } from '../data/user-model';
import { renderSystemTemplate } from '../../templates/domain/render';
import { verifyEmail } from '../../templates/domain/system/verify-email';
import { type ServiceContext } from '../../kernel/context';
import { storeNotification } from '../../notifications/domain/create-notification';

/**
 * Sends auth's verification email as an email notification rendered from
 * the `verify-email` system template, in the event's locale, else the
 * user's (from the read model), else the template's default, each with its
 * region fallback. Deduplicated on the event's message id, so a
 * redelivered event sends nothing twice. Kept out of the inbox (no inbox
 * owner): it is an account email, and its link carries a single-use token.
 */
export async function sendVerificationEmail(
  ctx: ServiceContext,
  message: VerificationRequestedMessage,
): Promise<void> {
  const request = message.payload;
  const user = await ctx.models.users
    .findById(request.userId, { locale: 1 })
    .lean<Pick<UserRecord, 'locale'>>();
  const { template, content } = await renderSystemTemplate(ctx.templates, verifyEmail, {
    data: { name: request.name, link: request.verificationUrl, expiresAt: request.expiresAt },
    preferences: [request.locale, user?.locale],
    channels: ['email'],
    pointers: { data: '/payload', key: '/payload', channels: '/payload' },
  });
  const email = content.email!;
  const record = await storeNotification(ctx, {
    dedupeKey: `verification:${message.messageId}`,
    inbox: false,
    recipient: { userId: request.userId, email: request.email, name: request.name, locale: template.locale },
    senderId: 'system',
    channels: ['email'],
    title: email.subject,
    body: email.text,
    template,
    rendered: content,
    locale: template.locale,
    category: 'account.verification',
    priority: 'high',
    correlationId: message.correlationId,
  });
  ctx.log.info(
    { notificationId: record._id, userId: request.userId, correlationId: message.correlationId },
    'verification email queued',
  );
}
