import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { makeRoom } from '../bounded-map';
import { TooManyRequestsError, UnauthorizedError, ValidationError } from '../errors';
import { NEVER, Scopes, type AuthenticatedUser } from '../jwt';

/*
 * API keys as every service accepts them (docs/applications.md): the key
 * format, the constant-time check against a stored hash, a directory of keys
 * (auth's own collection, or another service's read model fed by
 * `apikey.upserted`), a short cache in front of it, and a per-key rate limit.
 */

export const API_KEY_PREFIX = 'hk_';
const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;
// hk_<16 hex>_<32 bytes base64url = 43 characters>
const API_KEY_PATTERN = /^hk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A key as a service's directory holds it: never the secret, only its SHA-256. */
export interface ApiKeyRecord {
  keyId: string;
  /** sha256(secret), lowercase hex */
  secretHash: string;
  scopes: readonly string[];
  expiresAt?: Date | null;
  revokedAt?: Date | null;
  /** after a rotation with a grace period, the old secret still works until this time */
  previousSecretHash?: string | null;
  previousSecretExpiresAt?: Date | null;
}

/** Where a service looks keys up. */
export interface ApiKeyDirectory {
  lookup(keyId: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Told after each accepted request with the key (not awaited, errors
   * ignored); auth records `lastUsedAt` here, at most once a minute per key.
   */
  recordUse?(keyId: string, at: Date): void;
}

export interface NewApiKey {
  keyId: string;
  /** the whole `hk_<keyId>_<secret>`: shown once, never stored */
  key: string;
  secretHash: string;
}

/** A fresh key id (64 bits, hex) and secret (256 bits, base64url). */
export function generateApiKey(keyId = randomBytes(8).toString('hex')): NewApiKey {
  const secret = randomBytes(32).toString('base64url');
  return { keyId, key: `${API_KEY_PREFIX}${keyId}_${secret}`, secretHash: hashApiKeySecret(secret) };
}

/** What a list shows of a key: enough to recognise it, nothing to use it. */
export function apiKeyPrefix(keyId: string): string {
  return `${API_KEY_PREFIX}${keyId}_…`;
}

/**
 * A 256-bit random secret needs no slow hash: nobody can guess it, and the
 * hash does not give it back.
 */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function isApiKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value);
}

/** `hk_<keyId>_<secret>` → its parts; anything else → undefined. */
export function parseApiKey(value: string): { keyId: string; secret: string } | undefined {
  const match = API_KEY_PATTERN.exec(value);
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

function hashMatches(secret: string, expectedHex: string | null | undefined): boolean {
  if (!expectedHex) return false;
  const presented = createHash('sha256').update(secret).digest();
  const expected = Buffer.from(expectedHex, 'hex');
  return expected.length === presented.length && timingSafeEqual(presented, expected);
}

const invalidKey = (detail: string) => new UnauthorizedError('invalid_api_key', detail);

/**
 * The principal of a presented key, or 401 `invalid_api_key`: malformed,
 * unknown id, wrong secret, expired or revoked all answer the same code.
 */
export async function verifyApiKey(
  directory: ApiKeyDirectory | undefined,
  presented: string,
  now: Date,
): Promise<AuthenticatedUser> {
  const parsed = parseApiKey(presented);
  if (!parsed) throw invalidKey('The API key is malformed');
  if (!directory) throw invalidKey('This service does not accept API keys');
  const record = await directory.lookup(parsed.keyId);
  if (!record) throw invalidKey('The API key is not valid');
  const current = hashMatches(parsed.secret, record.secretHash);
  const previous =
    !current &&
    !!record.previousSecretExpiresAt &&
    record.previousSecretExpiresAt > now &&
    hashMatches(parsed.secret, record.previousSecretHash);
  if (!current && !previous) throw invalidKey('The API key is not valid');
  if (record.revokedAt && record.revokedAt <= now) throw invalidKey('The API key has been revoked');
  if (record.expiresAt && record.expiresAt <= now) throw invalidKey('The API key has expired');
  return {
    kind: 'apikey',
    id: record.keyId,
    role: record.scopes.includes(Scopes.admin) ? 'admin' : 'user',
    emailVerified: false,
    tokenExpiresAt: record.expiresAt ?? NEVER,
    scopes: [...record.scopes],
  };
}

/** The start of a real key (`hk_` + its 16-hex id + `_`): `?key=hk_welcome` names a template, not a key. */
const KEY_IN_TEXT = /^hk_[0-9a-f]{16}_/;

/** Query parameters a client might put a key in. */
const KEY_PARAMETERS = new Set(['api_key', 'apikey', 'api-key']);

/**
 * 400 `api_key_in_query` when a request carries a key in its URL: URLs end up
 * in proxy logs, browser history and Referer headers, so such a key is
 * refused rather than accepted (the client should rotate it).
 */
export function refuseApiKeyInQuery(url: string): void {
  const query = url.indexOf('?');
  if (query < 0) return;
  for (const [name, value] of new URLSearchParams(url.slice(query + 1))) {
    if (KEY_IN_TEXT.test(value) || KEY_PARAMETERS.has(name.toLowerCase())) {
      throw new ValidationError(
        'An API key must be sent in the Authorization header, never in the URL; rotate this key',
        [{ field: `/querystring/${name}`, message: 'an API key in the query string' }],
        'api_key_in_query',
      );
    }
  }
}

/** `text` with anything that looks like an API key replaced, for log lines. */
export function maskApiKeys(text: string): string {
  return text.replace(/hk_[0-9A-Za-z_%-]*/g, '[redacted]');
}

/** Query parameters that carry a credential in a link (unsubscribe, verification, reset, inbox). */
const SECRET_QUERY_PARAMS = /([?&](?:token|access_token|code|signature|sig|key|api_key)=)[^&#]*/gi;

/** A URL as a log line may show it: API keys and credential query values replaced. */
export function maskUrlSecrets(url: string): string {
  return maskApiKeys(url).replace(SECRET_QUERY_PARAMS, '$1[redacted]');
}

/** A map whose entries live at most `ttlMs`, with explicit invalidation. */
export interface TtlCache<V> {
  /** the cached value, or `load()`'s (cached, even when undefined) */
  get(key: string, load: () => Promise<V>): Promise<V>;
  invalidate(key: string): void;
  clear(): void;
}

export interface TtlCacheOptions {
  /** at most 2000: a revocation must reach every instance within 5 s */
  ttlMs: number;
  now?: () => Date;
  maxEntries?: number;
}

export const MAX_DIRECTORY_CACHE_MS = 2_000;

/**
 * A small in-process cache for directory lookups (API keys, subscribers).
 * The TTL is capped at 2 s: that cap, plus the read model's event lag, is how
 * a revocation reaches every instance of every service within 5 s.
 */
export function createTtlCache<V>(options: TtlCacheOptions): TtlCache<V> {
  if (options.ttlMs < 0 || options.ttlMs > MAX_DIRECTORY_CACHE_MS) {
    throw new RangeError(`a directory cache keeps entries at most ${MAX_DIRECTORY_CACHE_MS} ms`);
  }
  const now = options.now ?? (() => new Date());
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { value: V; until: number }>();
  // Bumped by every invalidation: a load that was already running when a change arrived read the
  // old record, so its answer is returned to its caller but never cached (it would hide the change
  // for one more TTL).
  let generation = 0;
  return {
    async get(key, load) {
      const at = now().getTime();
      const known = entries.get(key);
      if (known && known.until > at) return known.value;
      entries.delete(key);
      const startedAt = generation;
      const value = await load();
      if (options.ttlMs > 0 && generation === startedAt) {
        makeRoom(entries, maxEntries);
        entries.set(key, { value, until: at + options.ttlMs });
      }
      return value;
    },
    invalidate: (key) => {
      generation += 1;
      entries.delete(key);
    },
    clear: () => {
      generation += 1;
      entries.clear();
    },
  };
}

/** A directory behind a TTL cache; `invalidate` when this process learns of a change. */
export interface CachedApiKeyDirectory extends ApiKeyDirectory {
  invalidate(keyId: string): void;
}

export function cachedApiKeyDirectory(
  directory: ApiKeyDirectory,
  options: TtlCacheOptions,
): CachedApiKeyDirectory {
  const cache = createTtlCache<ApiKeyRecord | undefined>(options);
  return {
    // Unknown ids are cached too, so junk keys cannot hammer the database.
    lookup: (keyId) => cache.get(keyId, () => directory.lookup(keyId)),
    ...(directory.recordUse ? { recordUse: directory.recordUse.bind(directory) } : {}),
    invalidate: (keyId) => cache.invalidate(keyId),
  };
}

export interface RateLimitOptions {
  /** tokens added per second, per key */
  perSecond: number;
  /** the bucket's size: how many requests may come at once; defaults to one second's worth */
  burst?: number;
  now?: () => Date;
  maxKeys?: number;
}

export interface KeyRateLimiter {
  /** takes a token for `key`, or throws 429 `rate_limited` with the seconds until the next one */
  take(key: string): void;
}

/**
 * A token bucket per key, in this process: N instances allow N times the
 * rate. Enough to stop one runaway integration from starving the others.
 */
export function createKeyRateLimiter(options: RateLimitOptions): KeyRateLimiter {
  const now = options.now ?? (() => new Date());
  const capacity = options.burst ?? Math.max(1, options.perSecond);
  const maxKeys = options.maxKeys ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const at = now().getTime();
      const bucket = buckets.get(key) ?? { tokens: capacity, at };
      const refilled = Math.min(capacity, bucket.tokens + ((at - bucket.at) / 1000) * options.perSecond);
      if (refilled < 1) {
        buckets.set(key, { tokens: refilled, at });
        const retryAfterSeconds = Math.max(1, Math.ceil((1 - refilled) / options.perSecond));
        throw new TooManyRequestsError(
          retryAfterSeconds,
          'rate_limited',
          'Too many requests with this API key, try again later',
        );
      }
      buckets.delete(key);
      makeRoom(buckets, maxKeys);
      buckets.set(key, { tokens: refilled - 1, at });
    },
  };
}
