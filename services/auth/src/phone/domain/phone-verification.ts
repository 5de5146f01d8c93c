import { randomInt } from 'node:crypto';
import { AppError, ConflictError, ForbiddenError, TooManyRequestsError } from '@herald/runtime';
import { type Types } from 'mongoose';
import { changeUser } from '../../accounts/domain/change-user';
import { publicUser, type PublicUserView } from '../../accounts/domain/user-views';
import { type AuthContext } from '../../context';
import { hashToken } from '../../sessions/domain/secrets';
import { AttemptThrottle } from '../../throttle/domain/attempt-throttle';

/** A code is good for 10 minutes and 5 tries: 5 in a million is the best a guesser can do per code. */
const CODE_TTL_MS = 10 * 60_000;
const MAX_TRIES = 5;
/** SMS cost money and can be pumped: one code a minute, five a day per user, and five a day per number. */
const RESEND_INTERVAL_MS = 60_000;
const MAX_CODES_PER_DAY = 5;

export interface PhoneVerificationSent {
  phone: string;
  expiresAt: Date;
}

/**
 * Stores `phone` as pending (not the user's phone yet) with a new 6-digit
 * code, hashed, and publishes `user.phone_verification_requested` for the
 * notification service to text it to that number. A new code replaces the old.
 */
export async function requestPhoneVerification(
  ctx: AuthContext,
  userId: string,
  phone: string,
  correlationId: string,
): Promise<PhoneVerificationSent> {
  const current = await ctx.models.users
    .findById(userId, { phone: 1, phoneVerified: 1, phoneVerification: 1, disabled: 1 })
    .lean();
  if (current) assertMayRequest(ctx, current, phone);
  await dailyLimit(ctx).take([
    { key: `phone-code-user:${userId}`, limit: MAX_CODES_PER_DAY },
    { key: `phone-code-number:${phone}`, limit: MAX_CODES_PER_DAY },
  ]);

  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = ctx.now();
  const record = {
    phone,
    codeHash: codeHash(userId, phone, code),
    expiresAt: new Date(now.getTime() + CODE_TTL_MS),
    sentAt: now,
    attempts: 0,
  };
  await changeUser(ctx, userId, correlationId, (user) => {
    assertMayRequest(ctx, user, phone);
    return {
      set: { phoneVerification: record },
      publishUpdated: false,
      extraEvents: (after) => [
        ctx.outbox.entry(
          'user.phone_verification_requested',
          {
            userId: after._id.toHexString(),
            phone,
            code,
            expiresAt: record.expiresAt.toISOString(),
            ...(after.locale ? { locale: after.locale } : {}),
          },
          correlationId,
        ),
      ],
    };
  });
  return { phone, expiresAt: record.expiresAt };
}

/**
 * The right code makes the pending number the user's verified phone (and
 * takes it from anyone who had verified it before: numbers get reassigned).
 * Each try is counted atomically BEFORE it is judged, so a burst of parallel
 * guesses gets no more than five, like a sequence.
 */
export async function verifyPhone(
  ctx: AuthContext,
  userId: string,
  code: string,
  correlationId: string,
): Promise<PublicUserView> {
  const claimed = await ctx.models.users
    .findOneAndUpdate(
      { _id: userId, 'phoneVerification.attempts': { $lt: MAX_TRIES } },
      { $inc: { 'phoneVerification.attempts': 1 } },
      { returnDocument: 'after', projection: { phoneVerification: 1, disabled: 1 } },
    )
    .lean();
  const pending = claimed?.phoneVerification;
  if (!claimed || !pending) throw await whyNoTry(ctx, userId);
  if (claimed.disabled) throw accountDisabled();
  if (pending.expiresAt.getTime() <= ctx.now().getTime()) throw codeExpired();
  if (codeHash(userId, pending.phone, code) !== pending.codeHash) {
    throw new AppError(400, 'phone_code_invalid', 'The code is wrong');
  }

  const saved = await changeUser(ctx, userId, correlationId, (user) => {
    // a new code was asked for in the meantime: this one no longer counts
    if (user.phoneVerification?.codeHash !== pending.codeHash) throw noPendingCode();
    return {
      set: { phone: pending.phone, phoneVerified: true },
      unset: ['phoneVerification'],
      publishUpdated: true,
    };
  });
  await releaseNumberFromOthers(ctx, saved._id, pending.phone, correlationId);
  return publicUser(saved);
}

/** Why a try could not even be counted. */
async function whyNoTry(ctx: AuthContext, userId: string): Promise<AppError> {
  const user = await ctx.models.users.findById(userId, { phoneVerification: 1, disabled: 1 }).lean();
  if (user?.disabled) return accountDisabled();
  if (!user?.phoneVerification) return noPendingCode();
  if (user.phoneVerification.expiresAt.getTime() <= ctx.now().getTime()) return codeExpired();
  return new AppError(400, 'phone_code_attempts_exhausted', 'Too many wrong codes; ask for a new one');
}

const noPendingCode = () =>
  new ConflictError('no_phone_verification_pending', 'Ask for a code first: POST /me/phone');
const codeExpired = () => new AppError(400, 'phone_code_expired', 'This code has expired; ask for a new one');

async function releaseNumberFromOthers(
  ctx: AuthContext,
  ownerId: Types.ObjectId,
  phone: string,
  correlationId: string,
): Promise<void> {
  const others = await ctx.models.users.find({ phone, _id: { $ne: ownerId } }, { _id: 1 }).lean();
  for (const other of others) {
    await changeUser(ctx, other._id, correlationId, (user) =>
      user.phone === phone ? { unset: ['phone'], set: { phoneVerified: false }, publishUpdated: true } : null,
    );
  }
}

function assertMayRequest(
  ctx: AuthContext,
  user: {
    phone?: string | null;
    phoneVerified?: boolean | null;
    phoneVerification?: { sentAt: Date } | null;
    disabled: boolean;
  },
  phone: string,
): void {
  if (user.disabled) throw accountDisabled();
  if (user.phoneVerified && user.phone === phone) {
    throw new ConflictError('phone_already_verified', 'This number is already your verified phone');
  }
  const nextAllowed = (user.phoneVerification?.sentAt.getTime() ?? 0) + RESEND_INTERVAL_MS;
  const now = ctx.now().getTime();
  if (nextAllowed > now) {
    throw new TooManyRequestsError(
      Math.ceil((nextAllowed - now) / 1000),
      'phone_code_too_soon',
      'A code was sent moments ago; try again later',
    );
  }
}

function dailyLimit(ctx: AuthContext): AttemptThrottle {
  return new AttemptThrottle(
    ctx.models.throttleCounters,
    86_400,
    { code: 'too_many_phone_codes', detail: 'Too many verification codes today; try again tomorrow' },
    ctx.now,
  );
}

/**
 * Only a hash is stored. Six digits are few, so the hash alone would not
 * resist a brute force by someone who read the database; what protects the
 * code is its 10 minutes and 5 tries. The user and number are mixed in so a
 * hash is good for nothing else.
 */
function codeHash(userId: string, phone: string, code: string): string {
  return hashToken(`${userId}:${phone}:${code}`);
}

const accountDisabled = () => new ForbiddenError('account_disabled', 'This account is disabled');
