import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ServiceUnavailableError, UnauthorizedError } from './errors';

export type Role = 'user' | 'admin';

/** Who made a request, as proven by an access token from auth. */
export interface AuthenticatedUser {
  id: string;
  role: Role;
  emailVerified: boolean;
  /** when the token stops being valid; realtime disconnects sockets at this time */
  tokenExpiresAt: Date;
}

/** Finds the public key for a token's `kid`. */
export interface KeyResolver {
  getKey(kid: string | undefined): Promise<KeyObject>;
}

export interface JwksResolverOptions {
  jwksUrl: string;
  /** how long fetched keys are trusted before they are fetched again */
  cacheMs?: number;
  /** an unknown kid triggers a fetch at most this often, so junk tokens cannot hammer auth */
  minRefetchIntervalMs?: number;
  fetchTimeoutMs?: number;
}

/**
 * Resolves keys from auth's JWKS endpoint. An unknown `kid` (auth rotated its
 * key) refetches the set, rate-limited; concurrent callers share one fetch.
 */
export function createJwksKeyResolver(options: JwksResolverOptions): KeyResolver {
  const cacheMs = options.cacheMs ?? 10 * 60_000;
  const minRefetchIntervalMs = options.minRefetchIntervalMs ?? 10_000;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = 0;
  let inFlight: Promise<void> | undefined;

  async function refresh(): Promise<void> {
    inFlight ??= (async () => {
      try {
        const response = await fetch(options.jwksUrl, {
          signal: AbortSignal.timeout(options.fetchTimeoutMs ?? 5000),
        });
        if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
        const body = (await response.json()) as { keys?: (JsonWebKey & { kid?: string })[] };
        keys = keysFromJwks(body.keys ?? []);
        fetchedAt = Date.now();
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return {
    async getKey(kid) {
      const stale = Date.now() - fetchedAt > cacheMs;
      const unknown = kid === undefined || !keys.has(kid);
      if (stale || (unknown && Date.now() - fetchedAt > minRefetchIntervalMs)) {
        try {
          await refresh();
        } catch {
          // Keep serving with the keys we have; only fail when we have none at all.
          // 503, not 401: the token may be fine, and the client should retry rather than log in again.
          if (keys.size === 0) {
            throw new ServiceUnavailableError('jwks_unavailable', 'Cannot verify tokens right now');
          }
        }
      }
      return pickKey(keys, kid);
    },
  };
}

/** Keys given directly (PEM or JWK), for tests and for services configured without JWKS. */
export function createStaticKeyResolver(publicKeys: Record<string, string | JsonWebKey>): KeyResolver {
  const keys = new Map<string, KeyObject>();
  for (const [kid, key] of Object.entries(publicKeys)) {
    keys.set(kid, typeof key === 'string' ? createPublicKey(key) : createPublicKey({ key, format: 'jwk' }));
  }
  return { getKey: async (kid) => pickKey(keys, kid) };
}

function keysFromJwks(jwks: (JsonWebKey & { kid?: string; use?: string })[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks) {
    if (!jwk.kid || (jwk.use && jwk.use !== 'sig')) continue;
    try {
      keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
    } catch {
      // A key we cannot parse cannot have signed a token we accept; skip it.
    }
  }
  return keys;
}

function pickKey(keys: Map<string, KeyObject>, kid: string | undefined): KeyObject {
  if (kid !== undefined) {
    const key = keys.get(kid);
    if (key) return key;
    throw new UnauthorizedError('invalid_token', 'The token was signed with an unknown key');
  }
  // Tokens without kid are accepted only while there is exactly one key to try.
  if (keys.size === 1) return [...keys.values()][0]!;
  throw new UnauthorizedError('invalid_token', 'The token names no key');
}

export interface TokenVerifierOptions {
  keys: KeyResolver;
  issuer: string;
  audience: string;
  /** seconds of clock difference tolerated between auth and this service */
  clockToleranceSeconds?: number;
  /**
   * Tokens already verified are remembered this long (never past their
   * expiry), so a client's every request does not pay for an ECDSA check
   * again: verification was a tenth of the notification service's CPU per
   * request. The price: a key withdrawn from the JWKS stops tokens it signed
   * only after this delay. 0 turns the memory off.
   */
  verifiedCacheMs?: number;
  /** the most tokens remembered; the oldest are forgotten first */
  verifiedCacheSize?: number;
  now?: () => number;
}

export interface TokenVerifier {
  verify(token: string): Promise<AuthenticatedUser>;
}

const ALGORITHMS: jwt.Algorithm[] = ['ES256', 'RS256'];

/** Verifies auth's access tokens. Used by the Fastify plugin and by realtime's handshake. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const cacheMs = options.verifiedCacheMs ?? 60_000;
  const cacheSize = options.verifiedCacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  const verified = new Map<string, { user: AuthenticatedUser; until: number }>();

  const remember = (token: string, user: AuthenticatedUser) => {
    if (cacheMs <= 0) return;
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(token, { user, until: Math.min(now() + cacheMs, user.tokenExpiresAt.getTime()) });
  };

  return {
    async verify(token) {
      const known = verified.get(token);
      if (known) {
        if (known.until > now()) return known.user;
        verified.delete(token);
      }
      const user = await verifySignature(options, token);
      remember(token, user);
      return user;
    },
  };
}

async function verifySignature(options: TokenVerifierOptions, token: string): Promise<AuthenticatedUser> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') {
    throw new UnauthorizedError('invalid_token', 'The token is malformed');
  }
  const key = await options.keys.getKey(decoded.header.kid);
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, key, {
      algorithms: ALGORITHMS,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      ...(options.now ? { clockTimestamp: Math.floor(options.now() / 1000) } : {}),
    }) as jwt.JwtPayload;
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) {
      throw new UnauthorizedError('token_expired', 'The access token has expired');
    }
    throw new UnauthorizedError('invalid_token', 'The access token is invalid');
  }
  return userFromClaims(claims);
}

function userFromClaims(claims: jwt.JwtPayload): AuthenticatedUser {
  const role = claims.role;
  if (
    typeof claims.sub !== 'string' ||
    (role !== 'user' && role !== 'admin') ||
    typeof claims.exp !== 'number'
  ) {
    throw new UnauthorizedError('invalid_token', 'The access token lacks required claims');
  }
  return {
    id: claims.sub,
    role,
    emailVerified: claims.email_verified === true,
    tokenExpiresAt: new Date(claims.exp * 1000),
  };
}

/** Reads `Bearer <token>` from an Authorization header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
