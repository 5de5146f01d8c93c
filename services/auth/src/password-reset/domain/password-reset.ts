import { AppError, TooManyRequestsError } from '@herald/runtime';
import { changeUser } from '../../accounts/domain/change-user';
import { checkEmail } from '../../accounts/domain/email-address';
import { assertPasswordPolicy } from '../../accounts/domain/passwords';
import { type AuthContext } from '../../context';
import { hashToken, randomToken } from '../../sessions/domain/secrets';
import { revokeSessions } from '../../sessions/domain/sessions';
import { AttemptThrottle } from '../../throttle/domain/attempt-throttle';

/** How long a reset link works: long enough to reach a mailbox, short enough that an old email is useless. */
const TOKEN_TTL_MS = 60 * 60_000;
const WINDOW_SECONDS = 3600;
/** requests per client address per hour: each may send an email, so this bounds mail-bombing from one address */
const MAX_PER_ADDRESS = 10;
/** reset emails per account per hour: beyond that, requests are accepted and silently dropped (a 429 would confirm the account) */
const MAX_PER_ACCOUNT = 3;

export const RESET_REQUESTED = { status: 'reset_requested' } as const;

/**
 * Always the same answer, whether the address has an account or not. For a
 * known, enabled account: a new single-use token (256 random bits, stored
 * hashed, replacing any earlier one) and `user.password_reset_requested`,
 * which the notification service sends with the `password-reset` template.
 */
export async function requestPasswordReset(
  ctx: AuthContext,
  email: string,
  clientIp: string,
  correlationId: string,
): Promise<typeof RESET_REQUESTED> {
  await throttle(ctx, 'too_many_password_resets').take([
    { key: `password-reset-ip:${clientIp}`, limit: MAX_PER_ADDRESS },
  ]);
  const check = checkEmail(email);
  const owner = check.valid
    ? await ctx.models.users.findOne({ email: check.normalized }, { _id: 1, disabled: 1 }).lean()
    : null;
  if (!owner || owner.disabled || !(await withinAccountLimit(ctx, owner._id.toHexString()))) {
    return RESET_REQUESTED;
  }

  const token = randomToken();
  const now = ctx.now();
  const record = {
    tokenHash: hashToken(token),
    expiresAt: new Date(now.getTime() + TOKEN_TTL_MS),
    requestedAt: now,
  };
  await changeUser(ctx, owner._id, correlationId, (user) =>
    user.disabled
      ? null
      : {
          set: { passwordReset: record },
          publishUpdated: false,
          extraEvents: (after) => [
            ctx.outbox.entry(
              'user.password_reset_requested',
              {
                userId: after._id.toHexString(),
                email: after.email,
                name: after.name,
                ...(after.locale ? { locale: after.locale } : {}),
                resetUrl: `${ctx.config.PASSWORD_RESET_URL_BASE}${encodeURIComponent(token)}`,
                expiresAt: record.expiresAt.toISOString(),
              },
              correlationId,
            ),
          ],
        },
  );
  return RESET_REQUESTED;
}

/**
 * Sets the new password and ends every session (whoever had the old password
 * may hold one). The link proved the mailbox, so the address counts as
 * verified from now on.
 */
export async function confirmPasswordReset(
  ctx: AuthContext,
  token: string,
  newPassword: string,
  correlationId: string,
): Promise<void> {
  const tokenHash = hashToken(token);
  const owner = await ctx.models.users
    .findOne({ 'passwordReset.tokenHash': tokenHash }, { email: 1, passwordReset: 1, disabled: 1 })
    .lean();
  // Checked before the bcrypt hash, so made-up tokens cost nothing; checked again in the write.
  if (!owner || owner.disabled) throw invalidToken();
  assertUsable(ctx, owner.passwordReset);
  assertPasswordPolicy(newPassword, owner.email, '/body/newPassword');
  const passwordHash = await ctx.passwords.hash(newPassword);

  await changeUser(ctx, owner._id, correlationId, (user) => {
    const pending = user.passwordReset;
    if (user.disabled || !pending || pending.tokenHash !== tokenHash) throw invalidToken();
    assertUsable(ctx, pending);
    return {
      set: { passwordHash, passwordReset: { ...pending, usedAt: ctx.now() }, emailVerified: true },
      publishUpdated: !user.emailVerified,
    };
  });
  await revokeSessions(ctx, owner._id);
}

function assertUsable(
  ctx: AuthContext,
  pending: { usedAt?: Date | null; expiresAt: Date } | null | undefined,
) {
  if (!pending) throw invalidToken();
  if (pending.usedAt) {
    throw new AppError(400, 'password_reset_token_used', 'This password-reset link has already been used');
  }
  if (pending.expiresAt.getTime() <= ctx.now().getTime()) {
    throw new AppError(
      400,
      'password_reset_token_expired',
      'This password-reset link has expired; ask for a new one',
    );
  }
}

const invalidToken = () =>
  new AppError(400, 'password_reset_token_invalid', 'This password-reset link is not valid');

async function withinAccountLimit(ctx: AuthContext, userId: string): Promise<boolean> {
  try {
    await throttle(ctx, 'too_many_password_resets').take([
      { key: `password-reset-account:${userId}`, limit: MAX_PER_ACCOUNT },
    ]);
    return true;
  } catch (err) {
    if (err instanceof TooManyRequestsError) return false;
    throw err;
  }
}

function throttle(ctx: AuthContext, code: string): AttemptThrottle {
  return new AttemptThrottle(
    ctx.models.throttleCounters,
    WINDOW_SECONDS,
    { code, detail: 'Too many password-reset requests from this address; try again later' },
    ctx.now,
  );
}
