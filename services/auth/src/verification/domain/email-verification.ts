import { AppError, ConflictError, TooManyRequestsError } from '@herald/runtime';
import { type Types } from 'mongoose';
import { type OutboxEntry } from '../../accounts/data/user-model';
import { changeUser } from '../../accounts/domain/change-user';
import { type AuthContext } from '../../context';
import { hashToken, randomToken } from '../../sessions/domain/secrets';

export interface NewVerification {
  token: string;
  record: { tokenHash: string; expiresAt: Date; sentAt: Date };
}

export function newVerification(ctx: AuthContext, now = ctx.now()): NewVerification {
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + ctx.config.VERIFY_EMAIL_TOKEN_TTL_SECONDS * 1000);
  return { token, record: { tokenHash: hashToken(token), expiresAt, sentAt: now } };
}

/** The event the notification service turns into the verification email; it carries the only copy of the token. */
export function verificationRequested(
  ctx: AuthContext,
  user: { _id: Types.ObjectId; email: string; name: string; locale?: string | null },
  verification: NewVerification,
  correlationId: string,
): OutboxEntry {
  return ctx.outbox.entry(
    'user.verification_requested',
    {
      userId: user._id.toHexString(),
      email: user.email,
      name: user.name,
      ...(user.locale ? { locale: user.locale } : {}),
      verificationUrl: `${ctx.config.VERIFY_EMAIL_URL_BASE}${encodeURIComponent(verification.token)}`,
      expiresAt: verification.record.expiresAt.toISOString(),
    },
    correlationId,
  );
}

/** Marks the token's user verified. Unknown, expired and used tokens fail with distinct codes. */
export async function verifyEmail(ctx: AuthContext, token: string, correlationId: string): Promise<void> {
  const tokenHash = hashToken(token);
  const owner = await ctx.models.users
    .findOne({ 'emailVerification.tokenHash': tokenHash }, { _id: 1 })
    .lean();
  if (!owner) throw unknownToken();
  await changeUser(ctx, owner._id, correlationId, (user) => {
    const pending = user.emailVerification;
    // a resend in the meantime replaced this token
    if (!pending || pending.tokenHash !== tokenHash) throw unknownToken();
    if (pending.usedAt) {
      throw new ConflictError('verification_token_used', 'This verification link has already been used');
    }
    if (pending.expiresAt.getTime() <= ctx.now().getTime()) {
      throw new AppError(
        400,
        'verification_token_expired',
        'This verification link has expired; ask for a new one',
      );
    }
    return {
      set: { emailVerified: true, emailVerification: { ...pending, usedAt: ctx.now() } },
      publishUpdated: !user.emailVerified,
    };
  });
}

/** A new token and email; the previous token stops working. Rate-limited per user across instances. */
export async function resendVerification(
  ctx: AuthContext,
  userId: string,
  correlationId: string,
): Promise<{ expiresAt: Date }> {
  const verification = newVerification(ctx);
  await changeUser(ctx, userId, correlationId, (user) => {
    if (user.emailVerified)
      throw new ConflictError('email_already_verified', 'The email address is already verified');
    const sentAt = user.emailVerification?.sentAt?.getTime();
    const nextAllowed = (sentAt ?? 0) + ctx.config.VERIFY_EMAIL_RESEND_INTERVAL_SECONDS * 1000;
    const now = ctx.now().getTime();
    if (nextAllowed > now) {
      throw new TooManyRequestsError(
        Math.ceil((nextAllowed - now) / 1000),
        'verification_resend_too_soon',
        'A verification email was sent moments ago; try again later',
      );
    }
    return {
      set: { emailVerification: verification.record },
      publishUpdated: false,
      extraEvents: (after) => [verificationRequested(ctx, after, verification, correlationId)],
    };
  });
  return { expiresAt: verification.record.expiresAt };
}

function unknownToken(): AppError {
  return new AppError(400, 'verification_token_invalid', 'This verification link is not valid');
}
