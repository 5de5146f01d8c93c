import {
  type UserRegisteredMessage,
  type UserUpdatedMessage,
  type VerificationRequestedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyUserSnapshot } from './domain/users';
import { sendVerificationEmail } from './domain/verification-email';

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
