import { randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '@herald/runtime';
import { type Types } from 'mongoose';
import { signAccessToken } from './access-tokens';
import { type AuthContext } from './context';
import { checkEmail } from './email-address';
import { AttemptThrottle } from './attempt-throttle';
import { passwordMatches } from './passwords';
import { hashToken, randomToken } from './secrets';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** seconds until the access token expires */
  expiresIn: number;
  tokenType: 'Bearer';
}

interface SessionUser {
  _id: Types.ObjectId;
  role: 'user' | 'admin';
  emailVerified: boolean;
}

/** Unknown email and wrong password answer exactly the same. */
const invalidCredentials = () =>
  new UnauthorizedError('invalid_credentials', 'The email or password is wrong');
const accountDisabled = () => new ForbiddenError('account_disabled', 'This account is disabled');

/**
 * Password checks, per account and per client address. Every check is
 * counted; a correct password clears the account's count and hands the
 * address its attempt back, so in effect only failures count.
 */
export function passwordThrottle(ctx: AuthContext): AttemptThrottle {
  return new AttemptThrottle(ctx.models.throttleCounters, ctx.config.LOGIN_FAILURE_WINDOW_SECONDS, {
    code: 'too_many_login_attempts',
    detail: 'Too many failed password attempts; try again later',
  });
}

export function accountThrottleKey(ctx: AuthContext, email: string) {
  return { key: `login-account:${email}`, limit: ctx.config.LOGIN_MAX_FAILURES_PER_ACCOUNT };
}

export async function login(
  ctx: AuthContext,
  input: { email: string; password: string },
  clientIp: string,
): Promise<TokenPair> {
  const email = checkEmail(input.email).normalized;
  const keys = {
    account: accountThrottleKey(ctx, email),
    ip: { key: `login-ip:${clientIp}`, limit: ctx.config.LOGIN_MAX_FAILURES_PER_IP },
  };
  const throttle = passwordThrottle(ctx);
  // Counted before bcrypt: a throttled guess is never even evaluated.
  await throttle.take([keys.account, keys.ip]).catch((err: unknown) => {
    ctx.metrics.logins.inc({ outcome: 'throttled' });
    throw err;
  });

  const user = await ctx.models.users
    .findOne({ email }, { passwordHash: 1, role: 1, emailVerified: 1, disabled: 1 })
    .lean();
  const matches = await passwordMatches(input.password, user?.passwordHash ?? ctx.dummyHash);
  if (!user || !matches) {
    ctx.metrics.logins.inc({ outcome: 'invalid_credentials' });
    throw invalidCredentials();
  }
  // The right password was no guess: clear the account, and do not hold it against a shared address.
  await Promise.all([throttle.reset(keys.account), throttle.giveBack([keys.ip])]);
  // Only after the password proved who is asking, so the state of an account is not disclosed to strangers.
  if (user.disabled) {
    ctx.metrics.logins.inc({ outcome: 'disabled' });
    throw accountDisabled();
  }
  ctx.metrics.logins.inc({ outcome: 'success' });
  return startSession(ctx, user, randomUUID());
}

/**
 * Single use: the token is claimed atomically. Presenting a token that was
 * already used means two parties hold it (one of them stole it), so the
 * whole family — the session — is revoked and both must log in again.
 */
export async function refresh(ctx: AuthContext, refreshToken: string): Promise<TokenPair> {
  const tokens = ctx.models.refreshTokens;
  const tokenHash = hashToken(refreshToken);
  const now = new Date();
  const claimed = await tokens
    .findOneAndUpdate(
      { tokenHash, usedAt: null, revokedAt: null, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: 'after' },
    )
    .lean();

  if (!claimed) {
    const known = await tokens.findOne({ tokenHash }).lean();
    if (!known) throw new UnauthorizedError('invalid_refresh_token', 'The refresh token is not valid');
    if (known.usedAt) {
      await revokeFamily(ctx, known.familyId, now);
      ctx.metrics.refreshReuse.inc();
      ctx.logger.warn(
        { userId: known.userId.toHexString(), sessionId: known.familyId },
        'refresh token reused: session revoked',
      );
      throw new UnauthorizedError(
        'refresh_token_reused',
        'The refresh token was already used; the session is revoked',
      );
    }
    if (known.revokedAt) throw new UnauthorizedError('refresh_token_revoked', 'The session has ended');
    throw new UnauthorizedError('refresh_token_expired', 'The refresh token has expired');
  }

  const user = await ctx.models.users
    .findById(claimed.userId, { role: 1, emailVerified: 1, disabled: 1 })
    .lean();
  if (!user || user.disabled) {
    await revokeFamily(ctx, claimed.familyId, now);
    throw accountDisabled();
  }
  // Role and verification are read now, so a change shows in the very next access token.
  return startSession(ctx, user, claimed.familyId);
}

/** Ends the session the refresh token belongs to. Unknown tokens are ignored: logging out is idempotent. */
export async function logout(ctx: AuthContext, refreshToken: string): Promise<void> {
  const known = await ctx.models.refreshTokens
    .findOne({ tokenHash: hashToken(refreshToken) }, { familyId: 1 })
    .lean();
  if (known) await revokeFamily(ctx, known.familyId, new Date());
}

/** Ends every session of the user, optionally except one (the one changing the password). */
export async function revokeSessions(
  ctx: AuthContext,
  userId: Types.ObjectId | string,
  exceptSessionId?: string,
) {
  const filter: Record<string, unknown> = { userId, revokedAt: null };
  if (exceptSessionId) filter.familyId = { $ne: exceptSessionId };
  await ctx.models.refreshTokens.updateMany(filter, { $set: { revokedAt: new Date() } });
}

async function revokeFamily(ctx: AuthContext, familyId: string, now: Date): Promise<void> {
  await ctx.models.refreshTokens.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: now } });
}

async function startSession(ctx: AuthContext, user: SessionUser, sessionId: string): Promise<TokenPair> {
  const refreshToken = randomToken();
  await ctx.models.refreshTokens.create({
    tokenHash: hashToken(refreshToken),
    userId: user._id,
    familyId: sessionId,
    expiresAt: new Date(Date.now() + ctx.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
  });
  const accessToken = signAccessToken(ctx.tokens, {
    userId: user._id.toHexString(),
    role: user.role,
    emailVerified: user.emailVerified,
    sessionId,
  });
  return { accessToken, refreshToken, expiresIn: ctx.tokens.ttlSeconds, tokenType: 'Bearer' };
}
