import { ForbiddenError, NotFoundError } from '@herald/runtime';
import { type AuthContext } from '../../context';
import { revokeSessions } from '../../sessions/domain/sessions';
import { changeUser, type UserChange } from './change-user';
import { accountAddressKey, passwordBackoff } from './password-throttle';
import { assertPasswordPolicy } from './passwords';
import { publicUser, type PublicUserView } from './user-views';

export async function getUser(ctx: AuthContext, userId: string): Promise<PublicUserView> {
  const user = await ctx.models.users
    .findById(userId, {
      passwordHash: 0,
      outbox: 0,
      emailVerification: 0,
      phoneVerification: 0,
      passwordReset: 0,
    })
    .lean();
  if (!user) throw new NotFoundError('user_not_found', 'No such user');
  // An access token outlives a disable by up to its TTL; auth's own routes close that gap.
  if (user.disabled) throw new ForbiddenError('account_disabled', 'This account is disabled');
  return publicUser(user);
}

export interface ProfileChange {
  name?: string;
  locale?: string | null;
  /** only removal: a new number becomes the user's through verification (phone-verification.ts) */
  phone?: null;
  password?: { current: string; new: string };
}

/**
 * Name, locale, removing the phone (null removes the last two). A new password needs
 * the current one and ends every other session: whoever knew the old
 * password may hold one.
 */
export async function updateProfile(
  ctx: AuthContext,
  userId: string,
  sessionId: string | undefined,
  change: ProfileChange,
  correlationId: string,
  clientIp: string,
): Promise<PublicUserView> {
  let passwordHash: string | undefined;
  if (change.password) {
    const stored = await ctx.models.users.findById(userId, { passwordHash: 1, email: 1 }).lean();
    if (!stored) throw new NotFoundError('user_not_found', 'No such user');
    // The same count as login: a stolen access token must not become an unlimited password oracle.
    const backoff = passwordBackoff(ctx);
    const key = accountAddressKey(stored.email, clientIp);
    await backoff.take(key);
    if (!(await ctx.passwords.matches(change.password.current, stored.passwordHash))) {
      // 403, not 401: the caller is authenticated, and a 401 would tell clients to log in again.
      throw new ForbiddenError('wrong_current_password', 'The current password is wrong');
    }
    await backoff.reset(key);
    assertPasswordPolicy(change.password.new, stored.email, '/body/newPassword');
    passwordHash = await ctx.passwords.hash(change.password.new);
  }

  const saved = await changeUser(ctx, userId, correlationId, (user) => {
    if (user.disabled) throw new ForbiddenError('account_disabled', 'This account is disabled');
    const set: UserChange['set'] = {};
    const unset: NonNullable<UserChange['unset']> = [];
    if (change.name !== undefined && change.name.trim() !== user.name) set.name = change.name.trim();
    if (change.locale === null && user.locale) unset.push('locale');
    if (change.locale && change.locale !== user.locale) set.locale = change.locale;
    if (change.phone === null && (user.phone || user.phoneVerification)) {
      unset.push('phone', 'phoneVerification');
      set.phoneVerified = false;
    }
    const profileChanged = Object.keys(set).length > 0 || unset.length > 0;
    if (passwordHash) set.passwordHash = passwordHash;
    if (!profileChanged && !passwordHash) return null;
    return { set, unset, publishUpdated: profileChanged };
  });
  if (passwordHash) await revokeSessions(ctx, userId, sessionId);
  return publicUser(saved);
}
