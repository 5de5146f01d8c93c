import {
  type PasswordResetRequestedMessage,
  type PhoneVerificationRequestedMessage,
  type RegistrationAttemptedMessage,
  type VerificationRequestedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { storeNotification } from '../../notifications/domain/create-notification';
import { renderSystemTemplate } from '../../templates/domain/render';
import { passwordReset } from '../../templates/domain/system/password-reset';
import { phoneVerification } from '../../templates/domain/system/phone-verification';
import { registrationAttempted } from '../../templates/domain/system/registration-attempted';
import { type SystemTemplate } from '../../templates/domain/system/types';
import { verifyEmail } from '../../templates/domain/system/verify-email';
import { type UserRecord } from '../data/user-model';

/*
 * The account messages auth asks for, each rendered from its system template
 * in the event's locale (else the user's, else the template's default) and
 * stored as a notification deduplicated on the event's message id, so a
 * redelivered event sends nothing twice. None goes to the inbox: they are
 * account messages, and most carry a secret (a link, a code).
 */

interface AccountMessage {
  /** the auth event: its id deduplicates, its correlation id follows the message */
  event: { messageId: string; correlationId: string };
  template: SystemTemplate;
  data: Record<string, unknown>;
  userId: string;
  locale?: string;
  to: { email: string; name: string } | { phone: string };
  category: string;
  /** the dedupe key's prefix, kept as it was when the message was first sent this way */
  dedupePrefix?: string;
}

async function sendAccountMessage(ctx: ServiceContext, message: AccountMessage): Promise<void> {
  const user = await ctx.models.users
    .findById(message.userId, { locale: 1 })
    .lean<Pick<UserRecord, 'locale'>>();
  const channel = 'email' in message.to ? 'email' : 'sms';
  const { template, content } = await renderSystemTemplate(ctx.templates, message.template, {
    data: message.data,
    preferences: [message.locale, user?.locale],
    channels: [channel],
    pointers: { data: '/payload', key: '/payload', channels: '/payload' },
  });
  const title = channel === 'email' ? content.email!.subject : message.template.key;
  const body = channel === 'email' ? content.email!.text : content.sms!;
  const record = await storeNotification(ctx, {
    dedupeKey: `${message.dedupePrefix ?? message.template.key}:${message.event.messageId}`,
    inbox: false,
    recipient: { userId: message.userId, ...message.to, locale: template.locale },
    senderId: 'system',
    channels: [channel],
    title,
    body,
    template,
    rendered: content,
    locale: template.locale,
    category: message.category,
    priority: 'high',
    correlationId: message.event.correlationId,
  });
  ctx.log.info(
    { notificationId: record._id, userId: message.userId, template: message.template.key },
    'account message queued',
  );
}

/** `user.verification_requested`: the verify-email link. */
export function sendVerificationEmail(ctx: ServiceContext, event: VerificationRequestedMessage) {
  const { userId, email, name, locale, verificationUrl, expiresAt } = event.payload;
  return sendAccountMessage(ctx, {
    event,
    template: verifyEmail,
    data: { name, link: verificationUrl, expiresAt },
    userId,
    locale,
    to: { email, name },
    category: 'account.verification',
    dedupePrefix: 'verification',
  });
}

/** `user.password_reset_requested`: the password-reset email with its single-use link. */
export function sendPasswordResetEmail(ctx: ServiceContext, event: PasswordResetRequestedMessage) {
  const { userId, email, name, locale, resetUrl, expiresAt } = event.payload;
  return sendAccountMessage(ctx, {
    event,
    template: passwordReset,
    data: { name, link: resetUrl, expiresAt },
    userId,
    locale,
    to: { email, name },
    category: 'account.password_reset',
  });
}

/** `user.registration_attempted`: tells the owner someone tried to register with their address. */
export function sendRegistrationAttemptEmail(ctx: ServiceContext, event: RegistrationAttemptedMessage) {
  const { userId, email, name, locale } = event.payload;
  return sendAccountMessage(ctx, {
    event,
    template: registrationAttempted,
    data: { name },
    userId,
    locale,
    to: { email, name },
    category: 'account.security',
  });
}

/**
 * `user.phone_verification_requested`: the one-time code by SMS to the number
 * being verified. The only SMS Herald sends to a number not yet verified: the
 * code is what verifies it; auth limits how often one is asked for.
 */
export function sendPhoneVerificationCode(ctx: ServiceContext, event: PhoneVerificationRequestedMessage) {
  const { userId, phone, code, locale } = event.payload;
  return sendAccountMessage(ctx, {
    event,
    template: phoneVerification,
    data: { code },
    userId,
    locale,
    to: { phone },
    category: 'account.phone_verification',
  });
}
