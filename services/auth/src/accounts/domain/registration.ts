import { ConflictError, ValidationError } from '@herald/runtime';
import { mapMongoError } from '@herald/runtime/mongo';
import { Types } from 'mongoose';
import { type AuthContext } from '../../context';
import { AttemptThrottle } from '../../throttle/domain/attempt-throttle';
import { newVerification, verificationRequested } from '../../verification/domain/email-verification';
import { checkEmail } from './email-address';
import { assertPasswordPolicy } from './passwords';
import { publicUser, userSnapshot, type PublicUserView } from './user-views';

export interface Registration {
  email: string;
  password: string;
  name: string;
  locale?: string;
  phone?: string;
}

export type PublicUser = PublicUserView;

/**
 * Creates the account with its first verification token, and — in the same
 * insert — the `user.registered` and `user.verification_requested` events.
 */
export async function register(
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
    ...(input.phone ? { phone: input.phone } : {}),
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
