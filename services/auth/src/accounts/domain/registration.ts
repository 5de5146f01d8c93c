import { ConflictError, TooManyRequestsError, ValidationError } from '@herald/runtime';
import { mapMongoError } from '@herald/runtime/mongo';
import { Types } from 'mongoose';
import { type AuthContext } from '../../context';
import { AttemptThrottle } from '../../throttle/domain/attempt-throttle';
import { newVerification, verificationRequested } from '../../verification/domain/email-verification';
import { changeUser } from './change-user';
import { checkEmail } from './email-address';
import { assertPasswordPolicy } from './passwords';
import { publicUser, userSnapshot, type PublicUserView } from './user-views';

export interface Registration {
  email: string;
  password: string;
  name: string;
  locale?: string;
}

export type PublicUser = PublicUserView;

/** Both answers of `register`: the same, whether the address was new or taken. */
export const REGISTRATION_ACCEPTED = { status: 'verification_sent' } as const;

/** How many "someone tried to register with your address" emails an owner gets per day, at most. */
const ATTEMPT_NOTICES_PER_DAY = 3;

/**
 * Public registration. It never tells whether the address has an account:
 * a new address gets its account and verification email, a taken one gets
 * an email to its owner saying someone tried; both answer the same (and both
 * pay for the bcrypt hash, so the timing does not tell either).
 */
export async function register(
  ctx: AuthContext,
  input: Registration,
  correlationId: string,
  clientIp: string,
): Promise<typeof REGISTRATION_ACCEPTED> {
  try {
    await createAccount(ctx, input, correlationId, { clientIp });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    await tellOwnerOfAttempt(ctx, checkEmail(input.email).normalized, correlationId);
  }
  return REGISTRATION_ACCEPTED;
}

/**
 * Creates the account with its first verification token, and — in the same
 * insert — the `user.registered` and `user.verification_requested` events.
 * A taken address is a 409 `email_taken`: for the first admin, never for a public caller.
 */
export async function createAccount(
  ctx: AuthContext,
  input: Registration,
  correlationId: string,
  options: { role?: 'user' | 'admin'; emailVerified?: boolean; clientIp?: string } = {},
): Promise<PublicUser> {
  const email = assertAcceptableEmail(ctx, input.email);
  assertPasswordPolicy(input.password, email, '/body/password');
  if (options.clientIp) await countRegistration(ctx, options.clientIp);
  const passwordHash = await ctx.passwords.hash(input.password);

  const user = {
    _id: new Types.ObjectId(),
    email,
    passwordHash,
    name: input.name.trim(),
    ...(input.locale ? { locale: input.locale } : {}),
    role: options.role ?? 'user',
    emailVerified: options.emailVerified ?? false,
    disabled: false,
    revision: 0,
  };
  const verification = user.emailVerified ? undefined : newVerification(ctx);
  const outbox = [ctx.outbox.entry('user.registered', userSnapshot(user), correlationId)];
  if (verification) outbox.push(verificationRequested(ctx, user, verification, correlationId));

  try {
    const created = await ctx.models.users.create({
      ...user,
      ...(verification ? { emailVerification: verification.record } : {}),
      outbox,
    });
    ctx.outbox.publishSoon(created._id);
    return publicUser(created.toObject());
  } catch (err) {
    const mapped = mapMongoError(err);
    if (mapped instanceof ConflictError) {
      throw new ConflictError('email_taken', 'An account with this email already exists');
    }
    throw mapped;
  }
}

/**
 * `user.registration_attempted` for the owner of a taken address, unless the
 * account is disabled or its owner already heard about it enough today
 * (silently: the caller must not learn that either).
 */
async function tellOwnerOfAttempt(ctx: AuthContext, email: string, correlationId: string): Promise<void> {
  const owner = await ctx.models.users.findOne({ email }, { _id: 1, disabled: 1 }).lean();
  if (!owner || owner.disabled) return;
  const notices = new AttemptThrottle(
    ctx.models.throttleCounters,
    86_400,
    { code: 'registration_attempt_notices', detail: 'enough notices today' },
    ctx.now,
  );
  try {
    await notices.take([
      { key: `register-attempt:${owner._id.toHexString()}`, limit: ATTEMPT_NOTICES_PER_DAY },
    ]);
  } catch (err) {
    if (err instanceof TooManyRequestsError) return;
    throw err;
  }
  await changeUser(ctx, owner._id, correlationId, () => ({
    publishUpdated: false,
    extraEvents: (after) => [
      ctx.outbox.entry(
        'user.registration_attempted',
        {
          userId: after._id.toHexString(),
          email: after.email,
          name: after.name,
          ...(after.locale ? { locale: after.locale } : {}),
        },
        correlationId,
      ),
    ],
  }));
}

/** Before the bcrypt hash, which is what a flood of registrations would burn. */
async function countRegistration(ctx: AuthContext, clientIp: string): Promise<void> {
  const throttle = new AttemptThrottle(
    ctx.models.throttleCounters,
    ctx.config.REGISTER_WINDOW_SECONDS,
    {
      code: 'too_many_registrations',
      detail: 'Too many accounts registered from this address; try again later',
    },
    ctx.now,
  );
  const key = { key: `register-ip:${clientIp}`, limit: ctx.config.REGISTER_MAX_PER_IP };
  await throttle.take([key]);
}

function assertAcceptableEmail(ctx: AuthContext, email: string): string {
  const check = checkEmail(email);
  const disposableAllowed = check.reason === 'disposable' && !ctx.config.REJECT_DISPOSABLE_EMAILS;
  if (!check.valid && !disposableAllowed) {
    const message =
      check.reason === 'disposable'
        ? 'must not be a disposable address'
        : check.reason === 'too_long'
          ? 'is too long'
          : 'is not a valid email address';
    throw new ValidationError(
      'The email address cannot be used',
      [{ field: '/body/email', message }],
      `email_${check.reason}`,
    );
  }
  return check.normalized;
}
