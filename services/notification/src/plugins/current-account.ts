import { UnauthorizedError } from '@herald/runtime';
import { type TokenVerifier } from '@herald/runtime/http';
import { type CurrentUsers } from '../users/domain/current-users';

/**
 * Every authenticated request's caller, as the users read model has them
 * now rather than as the token said when auth issued it: a disabled account
 * is 401 `account_disabled`, and the role (and email verification) used for
 * authorization are the read model's — a demoted admin loses admin routes,
 * and a promoted user gains them, without waiting for a new token. Fed by
 * auth's user events, so a change applies within the user cache's TTL after
 * the event arrives. A user the read model does not have yet (their
 * `user.registered` still on its way) keeps the token's claims.
 *
 * Wraps the token verifier, so `authenticated` and `adminScope` (whose role
 * check reads `request.user`) see the current account with no other change.
 */
export function verifyCurrentAccount(verifier: TokenVerifier, users: CurrentUsers): TokenVerifier {
  return {
    async verify(token) {
      const claims = await verifier.verify(token);
      // Inbox tokens name subscribers, not accounts: auth's subscriber events speak for them.
      if (claims.kind !== 'user') return claims;
      const account = await users.byId(claims.id);
      if (!account) return claims;
      if (account.disabled) throw new UnauthorizedError('account_disabled', 'This account is disabled');
      return { ...claims, role: account.role, emailVerified: account.emailVerified };
    },
  };
}
