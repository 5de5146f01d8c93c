import {
  authenticationPlugin,
  type ApiKeyDirectory,
  createStaticKeyResolver,
  createTokenVerifier,
  type HttpApp,
} from '@herald/runtime/http';
import { type Config } from '../config';
import { type SigningKeyRing } from '../keys/domain/signing-keys';

/**
 * `authenticate`, `requireRole` and `requireScope` for `authenticated(...)` and `adminScope(...)`.
 * API keys are looked up in auth's own collection (through its ≤ 2 s cache).
 * Auth verifies its own tokens with its own public keys: no HTTP round trip
 * to itself; expiry is judged on the service's clock, like everything else.
 */
export async function registerAuthentication(
  app: HttpApp,
  options: { config: Config; keys: SigningKeyRing; apiKeys: ApiKeyDirectory; now: () => Date },
): Promise<void> {
  const verifier = createTokenVerifier({
    keys: createStaticKeyResolver(
      Object.fromEntries(options.keys.all.map((key) => [key.kid, key.publicJwk])),
    ),
    issuer: options.config.JWT_ISSUER,
    audience: options.config.JWT_AUDIENCE,
    now: options.now,
  });
  await app.register(authenticationPlugin, {
    verifier,
    apiKeys: options.apiKeys,
    apiKeyRateLimit: { perSecond: options.config.API_KEY_RATE_LIMIT_PER_SECOND },
    now: options.now,
  });
}
