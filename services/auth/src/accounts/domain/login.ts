import { UnauthorizedError } from '@herald/runtime';
import { type AuthContext } from '../../context';
import { accountDisabled, startNewSession, type TokenPair } from '../../sessions/domain/sessions';
import { checkEmail } from './email-address';
import { accountAddressKey, addressThrottle, addressThrottleKey, passwordBackoff } from './password-throttle';

export interface Credentials {
  email: string;
  password: string;
}

/** Unknown email and wrong password answer exactly the same. */
const invalidCredentials = () =>
  new UnauthorizedError('invalid_credentials', 'The email or password is wrong');

export async function login(ctx: AuthContext, input: Credentials, clientIp: string): Promise<TokenPair> {
  const email = checkEmail(input.email).normalized;
  const pairKey = accountAddressKey(email, clientIp);
  const ipKey = addressThrottleKey(ctx, clientIp);
  const backoff = passwordBackoff(ctx);
  const throttle = addressThrottle(ctx);
  // Counted before bcrypt: a throttled guess is never even evaluated.
  try {
    await throttle.take([ipKey]);
    await backoff.take(pairKey);
  } catch (err) {
    ctx.metrics.logins.inc({ outcome: 'throttled' });
    throw err;
  }

  const user = await ctx.models.users
    .findOne({ email }, { passwordHash: 1, role: 1, emailVerified: 1, disabled: 1 })
    .lean();
  // An unknown email is compared against the dummy hash: the same bcrypt cost, so the answer's timing tells nothing.
  const matches = await ctx.passwords.matches(input.password, user?.passwordHash ?? ctx.dummyHash);
  if (!user || !matches) {
    ctx.metrics.logins.inc({ outcome: 'invalid_credentials' });
    throw invalidCredentials();
  }
  // The right password was no guess: clear this address's delays, and do not hold it against a shared address.
  await Promise.all([backoff.reset(pairKey), throttle.giveBack([ipKey])]);
  // Only after the password proved who is asking, so the state of an account is not disclosed to strangers.
  if (user.disabled) {
    ctx.metrics.logins.inc({ outcome: 'disabled' });
    throw accountDisabled();
  }
  ctx.metrics.logins.inc({ outcome: 'success' });
  return startNewSession(ctx, user);
}
