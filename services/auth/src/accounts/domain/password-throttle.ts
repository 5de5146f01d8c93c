import { type AuthContext } from '../../context';
import { AttemptThrottle } from '../../throttle/domain/attempt-throttle';
import { FailureBackoff } from '../../throttle/domain/failure-backoff';

const refusal = {
  code: 'too_many_login_attempts',
  detail: 'Too many failed password attempts; try again later',
};

/**
 * Password guesses against one account from one client address: a few free,
 * then growing delays. Keyed on both, so a stranger's guesses never lock the
 * owner out from the owner's own address; a correct password clears it.
 */
export function passwordBackoff(ctx: AuthContext): FailureBackoff {
  return new FailureBackoff(
    ctx.models.failureBackoffs,
    {
      freeAttempts: ctx.config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxDelaySeconds: ctx.config.LOGIN_FAILURE_WINDOW_SECONDS,
      refusal,
    },
    ctx.now,
  );
}

export function accountAddressKey(email: string, clientIp: string): string {
  return `login:${email}|${clientIp}`;
}

/**
 * Password checks per client address, whatever the account: one address
 * spraying many accounts. Every check is counted; a correct password hands
 * its attempt back, so in effect only failures count.
 */
export function addressThrottle(ctx: AuthContext): AttemptThrottle {
  return new AttemptThrottle(
    ctx.models.throttleCounters,
    ctx.config.LOGIN_FAILURE_WINDOW_SECONDS,
    refusal,
    ctx.now,
  );
}

export function addressThrottleKey(ctx: AuthContext, clientIp: string) {
  return { key: `login-ip:${clientIp}`, limit: ctx.config.LOGIN_MAX_FAILURES_PER_IP };
}
