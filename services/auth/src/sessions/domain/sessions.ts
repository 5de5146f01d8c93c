import { randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '@herald/runtime';
import { type Types } from 'mongoose';
import { type AuthContext } from '../../context';
import { signAccessToken } from '../../keys/domain/access-tokens';
import { hashToken, randomToken } from './secrets';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** seconds until the access token expires */
  expiresIn: number;
  tokenType: 'Bearer';
}

/** The fields of a user a session's access token is built from. */
export interface SessionUser {
  _id: Types.ObjectId;
  role: 'user' | 'admin';
  emailVerified: boolean;
}

export const accountDisabled = () => new ForbiddenError('account_disabled', 'This account is disabled');

/** A new session (refresh-token family) for a user whose password was just checked. */
export function startNewSession(ctx: AuthContext, user: SessionUser): Promise<TokenPair> {
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
  const now = ctx.now();
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
  if (known) await revokeFamily(ctx, known.familyId, ctx.now());
}

/** Ends every session of the user, optionally except one (the one changing the password). */
export async function revokeSessions(
  ctx: AuthContext,
  userId: Types.ObjectId | string,
  exceptSessionId?: string,
) {
  const filter: Record<string, unknown> = { userId, revokedAt: null };
  if (exceptSessionId) filter.familyId = { $ne: exceptSessionId };
  await ctx.models.refreshTokens.updateMany(filter, { $set: { revokedAt: ctx.now() } });
}

async function revokeFamily(ctx: AuthContext, familyId: string, now: Date): Promise<void> {
  await ctx.models.refreshTokens.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: now } });
}

async function startSession(ctx: AuthContext, user: SessionUser, sessionId: string): Promise<TokenPair> {
  const refreshToken = randomToken();
  const now = ctx.now();
  await ctx.models.refreshTokens.create({
    tokenHash: hashToken(refreshToken),
    userId: user._id,
    familyId: sessionId,
    expiresAt: new Date(now.getTime() + ctx.config.REFRESH_TOKEN_TTL_SECONDS * 1000),
  });
  const accessToken = signAccessToken(
    ctx.tokens,
    {
      userId: user._id.toHexString(),
      role: user.role,
      emailVerified: user.emailVerified,
      sessionId,
    },
    now,
  );
  return { accessToken, refreshToken, expiresIn: ctx.tokens.ttlSeconds, tokenType: 'Bearer' };
}
