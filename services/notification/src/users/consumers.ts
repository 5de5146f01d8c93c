import {
  type PasswordResetRequestedMessage,
  type PhoneVerificationRequestedMessage,
  type RegistrationAttemptedMessage,
  type UserRegisteredMessage,
  type UserUpdatedMessage,
  type VerificationRequestedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import {
  sendPasswordResetEmail,
  sendPhoneVerificationCode,
  sendRegistrationAttemptEmail,
  sendVerificationEmail,
} from './domain/account-messages';
import { applyUserSnapshot } from './domain/users';

/**
 * Auth's `user.registered` / `user.updated`: the read model takes the
 * snapshot, and this instance's requests see it at once (others within the
 * user cache's TTL).
 */
export async function onUserSnapshot(
  ctx: ServiceContext,
  message: UserRegisteredMessage | UserUpdatedMessage,
) {
  await applyUserSnapshot(ctx, message.payload, message.occurredAt);
  ctx.currentUsers.invalidate(message.payload.userId);
}

/** Auth's `user.verification_requested`: the verification email. */
export function onVerificationRequested(ctx: ServiceContext, message: VerificationRequestedMessage) {
  return sendVerificationEmail(ctx, message);
}

/** Auth's `user.password_reset_requested`: the password-reset email. */
export function onPasswordResetRequested(ctx: ServiceContext, message: PasswordResetRequestedMessage) {
  return sendPasswordResetEmail(ctx, message);
}

/** Auth's `user.phone_verification_requested`: the one-time code by SMS. */
export function onPhoneVerificationRequested(
  ctx: ServiceContext,
  message: PhoneVerificationRequestedMessage,
) {
  return sendPhoneVerificationCode(ctx, message);
}

/** Auth's `user.registration_attempted`: the owner hears that someone tried their address. */
export function onRegistrationAttempted(ctx: ServiceContext, message: RegistrationAttemptedMessage) {
  return sendRegistrationAttemptEmail(ctx, message);
}
