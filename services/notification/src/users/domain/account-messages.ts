import {
  type PasswordResetRequestedMessage,
  type PhoneVerificationRequestedMessage,
  type RegistrationAttemptedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { storeNotification } from '../../notifications/domain/create-notification';
import { renderSystemTemplate } from '../../templates/domain/render';
import { passwordReset } from '../../templates/domain/system/password-reset';
import { phoneVerification } from '../../templates/domain/system/phone-verification';
import { registrationAttempted } from '../../templates/domain/system/registration-attempted';
import { type UserRecord } from '../data/user-model';

/*
 * The account messages auth asks for, each rendered from its system template
 * in the event's locale (else the user's, else the template's default) and
 * stored as a notification deduplicated on the event's message id, so a
 * redelivered event sends nothing twice. None goes to the inbox: they are
 * account messages, and two of them carry a secret (a link, a code).
 */

async function userLocale(ctx: ServiceContext, userId: string): Promise<string | undefined> {
  const user = await ctx.models.users.findById(userId, { locale: 1 }).lean<Pick<UserRecord, 'locale'>>();
  return user?.locale;
}

const pointers = { data: '/payload', key: '/payload', channels: '/payload' };

/** `user.password_reset_requested`: the password-reset email with its single-use link. */
export async function sendPasswordResetEmail(
  ctx: ServiceContext,
  message: PasswordResetRequestedMessage,
): Promise<void> {
  const request = message.payload;
  const { template, content } = await renderSystemTemplate(ctx.templates, passwordReset, {
    data: { name: request.name, link: request.resetUrl, expiresAt: request.expiresAt },
    preferences: [request.locale, await userLocale(ctx, request.userId)],
    channels: ['email'],
    pointers,
  });
  const email = content.email!;
  const record = await storeNotification(ctx, {
    dedupeKey: `password-reset:${message.messageId}`,
    inbox: false,
    recipient: { userId: request.userId, email: request.email, name: request.name, locale: template.locale },
    senderId: 'system',
    channels: ['email'],
    title: email.subject,
    body: email.text,
    template,
    rendered: content,
    locale: template.locale,
    category: 'account.password_reset',
    priority: 'high',
    correlationId: message.correlationId,
  });
  ctx.log.info({ notificationId: record._id, userId: request.userId }, 'password reset email queued');
}

/** `user.registration_attempted`: tells the owner someone tried to register with their address. */
export async function sendRegistrationAttemptEmail(
  ctx: ServiceContext,
  message: RegistrationAttemptedMessage,
): Promise<void> {
  const request = message.payload;
  const { template, content } = await renderSystemTemplate(ctx.templates, registrationAttempted, {
    data: { name: request.name },
    preferences: [request.locale, await userLocale(ctx, request.userId)],
    channels: ['email'],
    pointers,
  });
  const email = content.email!;
  const record = await storeNotification(ctx, {
    dedupeKey: `registration-attempt:${message.messageId}`,
    inbox: false,
    recipient: { userId: request.userId, email: request.email, name: request.name, locale: template.locale },
    senderId: 'system',
    channels: ['email'],
    title: email.subject,
    body: email.text,
    template,
    rendered: content,
    locale: template.locale,
    category: 'account.security',
    priority: 'high',
    correlationId: message.correlationId,
  });
  ctx.log.info({ notificationId: record._id, userId: request.userId }, 'registration attempt email queued');
}

/**
 * `user.phone_verification_requested`: the one-time code by SMS to the number
 * being verified. The only SMS Herald sends to a number not yet verified: the
 * code is what verifies it; auth limits how often one is asked for.
 */
export async function sendPhoneVerificationCode(
  ctx: ServiceContext,
  message: PhoneVerificationRequestedMessage,
): Promise<void> {
  const request = message.payload;
  const { template, content } = await renderSystemTemplate(ctx.templates, phoneVerification, {
    data: { code: request.code },
    preferences: [request.locale, await userLocale(ctx, request.userId)],
    channels: ['sms'],
    pointers,
  });
  const record = await storeNotification(ctx, {
    dedupeKey: `phone-verification:${message.messageId}`,
    inbox: false,
    recipient: { userId: request.userId, phone: request.phone, locale: template.locale },
    senderId: 'system',
    channels: ['sms'],
    title: 'Phone verification code',
    body: content.sms!,
    template,
    rendered: content,
    locale: template.locale,
    category: 'account.phone_verification',
    priority: 'high',
    correlationId: message.correlationId,
  });
  ctx.log.info({ notificationId: record._id, userId: request.userId }, 'phone verification code queued');
}
