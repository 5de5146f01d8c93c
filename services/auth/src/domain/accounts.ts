import {
  ConflictError,
  ForbiddenError,
  mapMongoError,
  NotFoundError,
  ValidationError,
} from '@herald/runtime';
import { Types } from 'mongoose';
import { AttemptThrottle } from './attempt-throttle';
import { changeUser, type UserChange } from './change-user';
import { type AuthContext } from './context';
import { checkEmail } from './email-address';
import { newVerification, verificationRequested } from './email-verification';
import { assertPasswordPolicy, hashPassword, passwordMatches } from './passwords';
import { accountThrottleKey, passwordThrottle, revokeSessions } from './sessions';
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
  const passwordHash = await hashPassword(input.password, ctx.config.BCRYPT_COST);

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

export async function getUser(ctx: AuthContext, userId: string): Promise<PublicUser> {
  const user = await ctx.models.users
    .findById(userId, { passwordHash: 0, outbox: 0, emailVerification: 0 })
    .lean();
  if (!user) throw new NotFoundError('user_not_found', 'No such user');
  // An access token outlives a disable by up to its TTL; auth's own routes close that gap.
  if (user.disabled) throw new ForbiddenError('account_disabled', 'This account is disabled');
  return publicUser(user);
}

export interface ProfileChange {
  name?: string;
  locale?: string | null;
  phone?: string | null;
  password?: { current: string; new: string };
}

/**
 * Name, locale and phone (null removes the last two). A new password needs
 * the current one and ends every other session: whoever knew the old
 * password may hold one.
 */
export async function updateProfile(
  ctx: AuthContext,
  userId: string,
  sessionId: string | undefined,
  change: ProfileChange,
  correlationId: string,
): Promise<PublicUser> {
  let passwordHash: string | undefined;
  if (change.password) {
    const stored = await ctx.models.users.findById(userId, { passwordHash: 1, email: 1 }).lean();
    if (!stored) throw new NotFoundError('user_not_found', 'No such user');
    // The same count as login: a stolen access token must not become an unlimited password oracle.
    const throttle = passwordThrottle(ctx);
    const accountKey = accountThrottleKey(ctx, stored.email);
    await throttle.take([accountKey]);
    if (!(await passwordMatches(change.password.current, stored.passwordHash))) {
      // 403, not 401: the caller is authenticated, and a 401 would tell clients to log in again.
      throw new ForbiddenError('wrong_current_password', 'The current password is wrong');
    }
    await throttle.giveBack([accountKey]);
    assertPasswordPolicy(change.password.new, stored.email, '/body/newPassword');
    passwordHash = await hashPassword(change.password.new, ctx.config.BCRYPT_COST);
  }

  const saved = await changeUser(ctx, userId, correlationId, (user) => {
    if (user.disabled) throw new ForbiddenError('account_disabled', 'This account is disabled');
    const set: UserChange['set'] = {};
    const unset: NonNullable<UserChange['unset']> = [];
    if (change.name !== undefined && change.name.trim() !== user.name) set.name = change.name.trim();
    for (const field of ['locale', 'phone'] as const) {
      const value = change[field];
      if (value === null && user[field]) unset.push(field);
      if (value && value !== user[field]) set[field] = value;
    }
    const profileChanged = Object.keys(set).length > 0 || unset.length > 0;
    if (passwordHash) set.passwordHash = passwordHash;
    if (!profileChanged && !passwordHash) return null;
    return { set, unset, publishUpdated: profileChanged };
  });
  if (passwordHash) await revokeSessions(ctx, userId, sessionId);
  return publicUser(saved);
}

/** The first admin from ADMIN_EMAIL / ADMIN_PASSWORD. Idempotent: an existing account is left exactly as it is. */
export async function ensureAdmin(ctx: AuthContext, email: string, password: string): Promise<void> {
  const normalized = checkEmail(email).normalized;
  const existing = await ctx.models.users.findOne({ email: normalized }, { role: 1 }).lean();
  if (existing) {
    // Never promote: someone may have registered this address before the first start.
    if (existing.role !== 'admin')
      ctx.logger.warn('ADMIN_EMAIL belongs to an existing non-admin account; left unchanged');
    return;
  }
  try {
    await register(ctx, { email: normalized, password, name: 'Administrator' }, 'bootstrap-admin', {
      role: 'admin',
      emailVerified: true,
    });
    ctx.logger.info({ email: normalized }, 'created the first admin');
  } catch (err) {
    // another instance starting at the same time created it
    if (!(err instanceof ConflictError)) throw err;
  }
}

/** Before the bcrypt hash, which is what a flood of registrations would burn. */
async function countRegistration(ctx: AuthContext, clientIp: string): Promise<void> {
  const throttle = new AttemptThrottle(ctx.models.throttleCounters, ctx.config.REGISTER_WINDOW_SECONDS, {
    code: 'too_many_registrations',
    detail: 'Too many accounts registered from this address; try again later',
  });
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
