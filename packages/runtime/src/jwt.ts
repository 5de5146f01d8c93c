import { createPublicKey, type JsonWebKey } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import { AppError, ServiceUnavailableError, UnauthorizedError } from './errors';
import { makeRoom } from './bounded-map';

/*
 * Verifying auth's access tokens, on jose (JWKS fetching, key selection,
 * signature and claim checks). Auth signs them with jsonwebtoken; the two
 * meet only in the token format.
 */

export type Role = 'user' | 'admin';

/** What proved a request: an access token, an API key, or an inbox token (docs/applications.md). */
export type PrincipalKind = 'user' | 'apikey' | 'subscriber';

/**
 * Scope names. An API key carries those it was created with; an admin user
 * (and a key with `admin`) passes every scope check; a normal user has its
 * own inbox and sending to itself; a subscriber (inbox token) only `inbox`.
 * `@herald/contracts` lists the ones a key may be created with
 * (`ApiKeyScopes`); `inbox` is never given to a key.
 */
export const Scopes = {
  notificationsSend: 'notifications:send',
  notificationsRead: 'notifications:read',
  subscribersWrite: 'subscribers:write',
  templatesRead: 'templates:read',
  templatesWrite: 'templates:write',
  webhooksWrite: 'webhooks:write',
  admin: 'admin',
  inbox: 'inbox',
} as const;
export type Scope = (typeof Scopes)[keyof typeof Scopes];

/** A normal user's scopes: the send and inbox routes, where the domain limits them to themselves. */
export const USER_SCOPES: readonly Scope[] = [
  Scopes.inbox,
  Scopes.notificationsSend,
  Scopes.notificationsRead,
];
export const ADMIN_SCOPES: readonly Scope[] = Object.values(Scopes);
export const SUBSCRIBER_SCOPES: readonly Scope[] = [Scopes.inbox];

/** The prefix of a subscriber's principal and inbox-owner id: never a user id (24 hex characters). */
export const SUBSCRIBER_ID_PREFIX = 'sub:';
/** The `typ` claim of an inbox token; an access token has none. */
export const INBOX_TOKEN_TYPE = 'inbox';

/**
 * Who made a request (`request.user`). `id`, `role`, `emailVerified` and
 * `tokenExpiresAt` keep their meaning for users; for the other kinds:
 * - `apikey`: `id` is the key id; `role` is `admin` only for a key with the
 *   `admin` scope; `emailVerified` false; `tokenExpiresAt` the key's expiry
 *   (or `NEVER` for a key without one).
 * - `subscriber`: `id` is `sub:<externalId>`, `role` `user`, scopes `['inbox']`.
 */
export interface AuthenticatedUser {
  kind: PrincipalKind;
  id: string;
  role: Role;
  emailVerified: boolean;
  /** when the token (or key) stops being valid; realtime disconnects sockets at this time */
  tokenExpiresAt: Date;
  scopes: readonly string[];
}

/** The expiry of a key that never expires. */
export const NEVER = new Date(8_640_000_000_000_000);

/** An admin user, or a key with the `admin` scope, passes every scope check. */
export function hasScope(principal: AuthenticatedUser, scope: string): boolean {
  return (
    principal.role === 'admin' || principal.scopes.includes(Scopes.admin) || principal.scopes.includes(scope)
  );
}

/** The protected-header fields a verification key is chosen by. */
export interface TokenKeyHeader {
  alg?: string;
  kid?: string;
}

/** Finds the public key for a token's header (`kid`, and `alg` for the key type). */
export interface KeyResolver {
  /**
   * Throws `UnauthorizedError('invalid_token')` when no key fits, and
   * `ServiceUnavailableError('jwks_unavailable')` when the keys cannot be had.
   */
  getKey(header: TokenKeyHeader): Promise<CryptoKey>;
}

export interface JwksResolverOptions {
  jwksUrl: string;
  /** how long fetched keys are trusted before they are fetched again (jose's cacheMaxAge) */
  cacheMs?: number;
  /**
   * an unknown kid triggers a fetch at most this often, so junk tokens cannot
   * hammer auth (jose's cooldownDuration)
   */
  minRefetchIntervalMs?: number;
  fetchTimeoutMs?: number;
}

/**
 * Resolves keys from auth's JWKS endpoint. An unknown `kid` (auth rotated its
 * key) refetches the set, rate-limited; concurrent callers share one fetch.
 * When a refetch fails, the keys fetched before keep serving; only with no
 * keys at all is the answer 503.
 */
export function createJwksKeyResolver(options: JwksResolverOptions): KeyResolver {
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: options.cacheMs ?? 10 * 60_000,
    cooldownDuration: options.minRefetchIntervalMs ?? 10_000,
    timeoutDuration: options.fetchTimeoutMs ?? 5_000,
  });
  return {
    async getKey(header) {
      try {
        return await remote({ alg: header.alg, kid: header.kid });
      } catch (error) {
        if (isKeySelectionError(error)) throw unknownKey();
        const lastKnown = remote.jwks();
        if (lastKnown) return fromKeySet(createLocalJWKSet(lastKnown), header);
        // 503, not 401: the token may be fine, and the client should retry rather than log in again.
        throw new ServiceUnavailableError('jwks_unavailable', 'Cannot verify tokens right now');
      }
    },
  };
}

/** Keys given directly (PEM or JWK) by kid, for auth itself and for tests. */
export function createStaticKeyResolver(publicKeys: Record<string, string | JsonWebKey>): KeyResolver {
  const keys = Object.entries(publicKeys).map(([kid, key]): JWK => {
    const jwk = typeof key === 'string' ? createPublicKey(key).export({ format: 'jwk' }) : key;
    return { ...(jwk as JWK), kid };
  });
  const keySet = createLocalJWKSet({ keys } satisfies JSONWebKeySet);
  return { getKey: (header) => fromKeySet(keySet, header) };
}

async function fromKeySet(keySet: ReturnType<typeof createLocalJWKSet>, header: TokenKeyHeader) {
  try {
    return await keySet({ alg: header.alg, kid: header.kid });
  } catch (error) {
    if (isKeySelectionError(error)) throw unknownKey();
    throw error;
  }
}

/**
 * No key of the set fits the token: an unknown kid, no kid while several keys
 * fit, or an algorithm the set has no key for.
 */
function isKeySelectionError(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

const unknownKey = () => new UnauthorizedError('invalid_token', 'The token was signed with an unknown key');

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
  /** the clock expiry is checked against; tests move it instead of sleeping */
  now?: () => Date;
}

export interface TokenVerifier {
  verify(token: string): Promise<AuthenticatedUser>;
}

const ALGORITHMS = ['ES256', 'RS256'];

/** Verifies auth's access tokens. Used by the Fastify plugin and by realtime's handshake. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const cacheMs = options.verifiedCacheMs ?? 60_000;
  const cacheSize = options.verifiedCacheSize ?? 10_000;
  const now = options.now ?? (() => new Date());
  const verified = new Map<string, { user: AuthenticatedUser; until: number }>();

  const remember = (token: string, user: AuthenticatedUser, at: Date) => {
    if (cacheMs <= 0) return;
    makeRoom(verified, cacheSize);
    verified.set(token, { user, until: Math.min(at.getTime() + cacheMs, user.tokenExpiresAt.getTime()) });
  };

  return {
    async verify(token) {
      const at = now();
      const known = verified.get(token);
      if (known) {
        if (known.until > at.getTime()) return known.user;
        verified.delete(token);
      }
      const user = await verifySignature(options, token, at);
      remember(token, user, at);
      return user;
    },
  };
}

async function verifySignature(
  options: TokenVerifierOptions,
  token: string,
  currentDate: Date,
): Promise<AuthenticatedUser> {
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, (header) => options.keys.getKey(header), {
      algorithms: ALGORITHMS,
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      currentDate,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      throw new UnauthorizedError('token_expired', 'The access token has expired');
    }
    // Not three base64url parts with a JSON header: not a token at all.
    if (error instanceof errors.JWSInvalid) {
      throw new UnauthorizedError('invalid_token', 'The token is malformed');
    }
    // The key resolver's own answers (unknown key 401, JWKS unreachable 503) pass through.
    if (error instanceof AppError) throw error;
    throw new UnauthorizedError('invalid_token', 'The access token is invalid');
  }
  return userFromClaims(claims);
}

function userFromClaims(claims: JWTPayload): AuthenticatedUser {
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') {
    throw new UnauthorizedError('invalid_token', 'The access token lacks required claims');
  }
  const tokenExpiresAt = new Date(claims.exp * 1000);
  if (claims.typ === INBOX_TOKEN_TYPE) {
    if (!claims.sub.startsWith(SUBSCRIBER_ID_PREFIX) || claims.sub.length === SUBSCRIBER_ID_PREFIX.length) {
      throw new UnauthorizedError('invalid_token', 'The inbox token names no subscriber');
    }
    return {
      kind: 'subscriber',
      id: claims.sub,
      role: 'user',
      emailVerified: false,
      tokenExpiresAt,
      scopes: SUBSCRIBER_SCOPES,
    };
  }
  const role = claims.role;
  // Any other typ is a token this verifier does not understand: refused, never read as an access token.
  if ((role !== 'user' && role !== 'admin') || claims.typ !== undefined) {
    throw new UnauthorizedError('invalid_token', 'The access token lacks required claims');
  }
  // A person's id never looks like a subscriber's: whatever signed it, this token cannot alias an inbox.
  if (claims.sub.startsWith(SUBSCRIBER_ID_PREFIX)) {
    throw new UnauthorizedError('invalid_token', 'The access token names a subscriber, not a user');
  }
  return {
    kind: 'user',
    id: claims.sub,
    role,
    emailVerified: claims.email_verified === true,
    tokenExpiresAt,
    scopes: role === 'admin' ? ADMIN_SCOPES : USER_SCOPES,
  };
}

/** Reads `Bearer <token>` from an Authorization header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
