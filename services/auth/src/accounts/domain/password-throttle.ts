import { type AuthContext } from '../../context';
import { AttemptThrottle } from '../../throttle/domain/attempt-throttle';

/**
 * Password checks, per account and per client address. Every check is
 * counted; a correct password clears the account's count and hands the
 * address its attempt back, so in effect only failures count.
 */
export function passwordThrottle(ctx: AuthContext): AttemptThrottle {
  return new AttemptThrottle(
    ctx.models.throttleCounters,
    ctx.config.LOGIN_FAILURE_WINDOW_SECONDS,
    {
      code: 'too_many_login_attempts',
      detail: 'Too many failed password attempts; try again later',
    },
    ctx.now,
  );
}

export function accountThrottleKey(ctx: AuthContext, email: string) {
  return { key: `login-account:${email}`, limit: ctx.config.LOGIN_MAX_FAILURES_PER_ACCOUNT };
}

export function addressThrottleKey(ctx: AuthContext, clientIp: string) {
  return { key: `login-ip:${clientIp}`, limit: ctx.config.LOGIN_MAX_FAILURES_PER_IP };
}
