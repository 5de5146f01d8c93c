import { Type } from '@sinclair/typebox';
import {
  AmqpEnv,
  CommonEnv,
  JwtVerifyEnv,
  MongoEnv,
  loadConfig as loadServiceConfig,
  loadConfigOrExit,
  refuseDevelopmentSecrets,
} from '@herald/runtime';

export const AuthEnv = {
  ...CommonEnv,
  ...MongoEnv,
  ...AmqpEnv,
  JWT_ISSUER: JwtVerifyEnv.JWT_ISSUER,
  JWT_AUDIENCE: JwtVerifyEnv.JWT_AUDIENCE,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3001 }),
  /**
   * Proxies whose X-Forwarded-For entry is believed (addresses, CIDRs or
   * proxy-addr's `loopback`/`linklocal`/`uniquelocal`). The client address is
   * the first untrusted one from the right, so a client cannot dodge the
   * per-IP login throttle by sending its own X-Forwarded-For.
   */
  TRUSTED_PROXIES: Type.String({ default: 'loopback' }),
  /**
   * PEM private keys (EC P-256 → ES256, RSA → RS256), concatenated, oldest
   * first. The LAST one signs; all are published in the JWKS. To rotate,
   * append the new key, deploy, and remove the old one once the access-token
   * TTL has passed. Unset: a throwaway key is generated (refused in production).
   */
  JWT_PRIVATE_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 30, maximum: 86_400, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 30 * 86_400 }),
  BCRYPT_COST: Type.Integer({ minimum: 4, maximum: 15, default: 12 }),
  /** the verification token is appended to this to make the link in the email */
  VERIFY_EMAIL_URL_BASE: Type.String({
    pattern: '^https?://',
    default: 'http://localhost:8080/verify-email?token=',
  }),
  VERIFY_EMAIL_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 3600 }),
  /** the password-reset token is appended to this to make the link in the email */
  PASSWORD_RESET_URL_BASE: Type.String({
    pattern: '^https?://',
    default: 'http://localhost:8080/reset-password?token=',
  }),
  /** a user may ask for a new verification email at most this often */
  VERIFY_EMAIL_RESEND_INTERVAL_SECONDS: Type.Integer({ minimum: 0, default: 60 }),
  /**
   * Wrong passwords for one account from one client address before each
   * further try from there waits 1 s, 2 s, 4 s, … (up to the window). Other
   * addresses, the owner's among them, are not slowed down.
   */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  /** failed logins per client address, whatever the account, within one window (one address spraying many accounts) */
  LOGIN_MAX_FAILURES_PER_IP: Type.Integer({ minimum: 1, default: 20 }),
  /** the per-address window, the longest login delay, and how long a quiet account+address keeps its count */
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  /** registrations per client IP per window: each one costs a bcrypt hash, so a flood is a CPU attack */
  REGISTER_MAX_PER_IP: Type.Integer({ minimum: 1, default: 20 }),
  REGISTER_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
  /** refuse addresses at throwaway-mail domains at registration */
  REJECT_DISPOSABLE_EMAILS: Type.Boolean({ default: true }),
  /** how often the outbox relay looks for events the request path could not publish */
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({ minimum: 100, default: 5000 }),
  /**
   * Requests per second one API key may make to this instance (token bucket,
   * per instance: N instances allow N times this). 429 with Retry-After past it.
   */
  API_KEY_RATE_LIMIT_PER_SECOND: Type.Integer({ minimum: 1, maximum: 100_000, default: 50 }),
  /**
   * How long this instance trusts what it read of a key. At most 2 s: with
   * it, a revocation made on another auth instance applies here within 2 s
   * (on the instance that revoked it, at once).
   */
  API_KEY_CACHE_MS: Type.Integer({ minimum: 0, maximum: 2000, default: 2000 }),
  /** lifetime of an inbox token (a subscriber's JWT for the inbox routes and the socket) */
  INBOX_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 900 }),
  /** the first admin, created at start when no user has this email; both or neither */
  ADMIN_EMAIL: Type.Optional(Type.String({ minLength: 3 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
};

export type Config = ReturnType<typeof loadServiceConfig<typeof AuthEnv>>;

export const loadConfig = (env: Record<string, string | undefined> = process.env): Config =>
  loadServiceConfig('auth', AuthEnv, env, refuseDevelopmentSecrets);

export const loadConfigFromProcess = (): Config =>
  loadConfigOrExit('auth', AuthEnv, process.env, refuseDevelopmentSecrets);
