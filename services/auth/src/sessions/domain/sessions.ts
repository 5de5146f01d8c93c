import { randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from '@herald/runtime';
import { Types } from 'mongoose';
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
export async function startNewSession(ctx: AuthContext, user: SessionUser): Promise<TokenPair> {
  const sessionId = randomUUID();
  await ctx.models.sessions.create({
    _id: sessionId,
    userId: user._id,
    expiresAt: refreshExpiry(ctx, ctx.now()),
  });
  return issueTokens(ctx, user, sessionId);
}

/**
 * Single use: the token is claimed atomically. Presenting a token that was
 * already used means two parties hold it (one of them stole it), so the
 * whole family — the session — is revoked and both must log in again.
 *
 * A revocation (logout-all, password change, reuse, disable) may run while a
 * refresh is between its claim and its new token. So the session is checked
 * AFTER the new token is written: a revocation that came first is seen and
 * the new token dies with the session; one that comes later revokes the
 * session record, which the next claim of the new token checks the same way.
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
      await revokeFamily(ctx, known.familyId, known.userId, now);
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
    if (known.revokedAt) throw sessionEnded();
    throw new UnauthorizedError('refresh_token_expired', 'The refresh token has expired');
  }

  const user = await ctx.models.users
    .findById(claimed.userId, { role: 1, emailVerified: 1, disabled: 1 })
    .lean();
  if (!user || user.disabled) {
    await revokeFamily(ctx, claimed.familyId, claimed.userId, now);
    throw accountDisabled();
  }
  // Role and verification are read now, so a change shows in the very next access token.
  const pair = await issueTokens(ctx, user, claimed.familyId);
  // A session from before session records is created here (upsert), not refused.
  const session = await ctx.models.sessions
    .findOneAndUpdate(
      { _id: claimed.familyId },
      { $setOnInsert: { userId: claimed.userId }, $max: { expiresAt: refreshExpiry(ctx, now) } },
      { upsert: true, returnDocument: 'after' },
    )
    .lean();
  if (session?.revokedAt) {
    await revokeFamily(ctx, claimed.familyId, claimed.userId, now);
    throw sessionEnded();
  }
  return pair;
}

/** Ends the session the refresh token belongs to. Unknown tokens are ignored: logging out is idempotent. */
export async function logout(ctx: AuthContext, refreshToken: string): Promise<void> {
  const known = await ctx.models.refreshTokens
    .findOne({ tokenHash: hashToken(refreshToken) }, { familyId: 1, userId: 1 })
    .lean();
  if (known) await revokeFamily(ctx, known.familyId, known.userId, ctx.now());
}

/** Ends every session of the user, optionally except one (the one changing the password). */
export async function revokeSessions(
  ctx: AuthContext,
  userId: Types.ObjectId | string,
  exceptSessionId?: string,
) {
  const now = ctx.now();
  const owner = new Types.ObjectId(String(userId));
  const notExcepted = exceptSessionId ? { $ne: exceptSessionId } : { $exists: true };
  // Sessions first, tokens second: a refresh that claimed before the tokens were revoked meets the revoked session.
  await ctx.models.sessions.updateMany(
    { userId: owner, revokedAt: null, _id: notExcepted },
    { $set: { revokedAt: now } },
  );
  // Families from before session records have no record to revoke yet: give them a revoked one.
  const unrecorded = await ctx.models.refreshTokens.distinct('familyId', {
    userId: owner,
    revokedAt: null,
    familyId: notExcepted,
  });
  await Promise.all(unrecorded.map((familyId) => revokeFamily(ctx, familyId, owner, now)));
  await ctx.models.refreshTokens.updateMany(
    { userId: owner, revokedAt: null, familyId: notExcepted },
    { $set: { revokedAt: now } },
  );
}

async function revokeFamily(ctx: AuthContext, familyId: string, userId: Types.ObjectId, now: Date) {
  // An upsert, so a session from before session records gets a revoked record too; $min keeps the first revocation.
  await ctx.models.sessions.updateOne(
    { _id: familyId },
    { $min: { revokedAt: now }, $setOnInsert: { userId, expiresAt: refreshExpiry(ctx, now) } },
    { upsert: true },
  );
  await ctx.models.refreshTokens.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: now } });
}

const sessionEnded = () => new UnauthorizedError('refresh_token_revoked', 'The session has ended');

function refreshExpiry(ctx: AuthContext, now: Date): Date {
  return new Date(now.getTime() + ctx.config.REFRESH_TOKEN_TTL_SECONDS * 1000);
}

/** Writes the session's next refresh token and signs an access token for it. */
async function issueTokens(ctx: AuthContext, user: SessionUser, sessionId: string): Promise<TokenPair> {
  const refreshToken = randomToken();
  const now = ctx.now();
  await ctx.models.refreshTokens.create({
    tokenHash: hashToken(refreshToken),
    userId: user._id,
    familyId: sessionId,
    expiresAt: refreshExpiry(ctx, now),
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
