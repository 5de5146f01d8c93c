import { ALL_DESTINATIONS, parseSmsAllowList, type SmsAllowList } from '@herald/runtime/phone';
import { Type } from '@sinclair/typebox';
import {
  AmqpEnv,
  CommonEnv,
  ConfigError,
  JwtVerifyEnv,
  MongoEnv,
  ProxyEnv,
  loadConfigOrExit,
  refuseDevelopmentSecrets,
} from '@herald/runtime';
import { DEFAULT_SEND_QUOTAS, type SendQuotaLimits } from './quotas/domain/limits';
import { secretsKeyFromBase64, secretsKeysFromList } from './event-webhooks/domain/secret-box';

/**
 * The development WEBHOOK_SECRETS_KEY (`pnpm start`, docker-compose, tests):
 * base64 of `herald-local-webhook-secrets-key`. Published here, so refused in
 * production (DEVELOPMENT_SECRETS in @herald/runtime).
 */
export const DEVELOPMENT_WEBHOOK_SECRETS_KEY = 'aGVyYWxkLWxvY2FsLXdlYmhvb2stc2VjcmV0cy1rZXk=';

/**
 * Send quotas per sender, channel and window (0 = unlimited). The defaults
 * suit a self-hosted platform: a person's own use never meets them, a
 * scripted flood of SMS (which cost money) or email (which cost the
 * sender's reputation) stops within a minute.
 */
/** 32 bytes in base64: 43 characters, the last of which carries 2 bits, then one `=` */
const BASE64_32_BYTES = '[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=';

const quota = (value: number) => Type.Integer({ minimum: 0, maximum: 10_000_000, default: value });
const QuotaEnv = {
  QUOTA_IN_APP_PER_MINUTE: quota(DEFAULT_SEND_QUOTAS.in_app.perMinute),
  QUOTA_IN_APP_PER_DAY: quota(DEFAULT_SEND_QUOTAS.in_app.perDay),
  QUOTA_EMAIL_PER_MINUTE: quota(DEFAULT_SEND_QUOTAS.email.perMinute),
  QUOTA_EMAIL_PER_DAY: quota(DEFAULT_SEND_QUOTAS.email.perDay),
  QUOTA_SMS_PER_MINUTE: quota(DEFAULT_SEND_QUOTAS.sms.perMinute),
  QUOTA_SMS_PER_DAY: quota(DEFAULT_SEND_QUOTAS.sms.perDay),
  QUOTA_PUSH_PER_MINUTE: quota(DEFAULT_SEND_QUOTAS.push.perMinute),
  QUOTA_PUSH_PER_DAY: quota(DEFAULT_SEND_QUOTAS.push.perDay),
};

/** Outgoing webhooks to applications (issue 25; event-webhooks/). */
const EventWebhookEnv = {
  /**
   * Lets endpoints aim at private, loopback, link-local and other internal addresses.
   * Off: only public addresses, checked at registration and again, after DNS, at each delivery.
   */
  EVENT_WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /** comma-separated host names or IP addresses allowed even though internal (e.g. `hooks.internal,10.0.0.7`) */
  EVENT_WEBHOOK_ALLOWED_HOSTS: Type.String({ default: '' }),
  /** how long one delivery may take (connect, send, answer) before it counts as failed */
  EVENT_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 500, maximum: 60_000, default: 10_000 }),
  /** how often the dispatcher looks for due deliveries */
  EVENT_WEBHOOK_POLL_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1_000 }),
  /** how long a failing delivery is retried (exponential backoff) before it is given up; at least 24 */
  EVENT_WEBHOOK_RETRY_HOURS: Type.Integer({ minimum: 24, maximum: 24 * 14, default: 24 }),
  /** an endpoint failing every attempt for this long (and at least 10 in a row) is disabled */
  EVENT_WEBHOOK_DISABLE_AFTER_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 30, default: 72 }),
  /** after a secret rotation, the old secret keeps signing (a second signature) this long */
  EVENT_WEBHOOK_SECRET_GRACE_HOURS: Type.Integer({ minimum: 0, maximum: 24 * 7, default: 24 }),
  /**
   * The AES-256-GCM key the endpoints' signing secrets are encrypted with in
   * MongoDB: 32 random bytes, base64 (`openssl rand -base64 32`). Required in
   * production; elsewhere unset means the development key. To rotate it, set
   * the new key here and the old one in WEBHOOK_SECRETS_PREVIOUS_KEYS: a
   * starting instance re-seals every stored secret under the new key.
   */
  WEBHOOK_SECRETS_KEY: Type.Optional(
    Type.String({
      pattern: `^${BASE64_32_BYTES}$`,
      description: '32 bytes, base64 (openssl rand -base64 32)',
    }),
  ),
  /**
   * Earlier WEBHOOK_SECRETS_KEYs, comma-separated: secrets sealed under them
   * still open (and sign), and are re-sealed under WEBHOOK_SECRETS_KEY when an
   * instance starts. Drop a key once every instance has started with the new one.
   */
  WEBHOOK_SECRETS_PREVIOUS_KEYS: Type.Optional(
    Type.String({
      pattern: `^${BASE64_32_BYTES}(\\s*,\\s*${BASE64_32_BYTES})*$`,
      description: 'comma-separated keys of 32 bytes, base64',
    }),
  ),
};

export const NotificationEnv = {
  ...CommonEnv,
  ...MongoEnv,
  ...AmqpEnv,
  ...JwtVerifyEnv,
  ...ProxyEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3002 }),
  /** unacked events in flight on the notification service's own queue */
  AMQP_PREFETCH: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** a publish not confirmed within this time fails and is left to the outbox relay */
  AMQP_PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /**
   * How often the outbox relay looks for unpublished or due jobs and unfinished broadcasts. Each
   * pass reads what fell due since the last, and its reads hold the database's collections
   * meanwhile: every 2 s, a pass over ~1,800 notifications (at 890/s) slowed the requests arriving
   * during it past 25 ms; every 500 ms, none.
   */
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({ minimum: 50, default: 500 }),
  /**
   * How often the relay looks for what only a stopped instance or the clock leaves behind: a
   * broadcast or topic send to resume, a scheduled topic send now due (it starts up to this late),
   * a template change to announce. At the outbox's 500 ms these were 8 of an idle instance's
   * database commands a second. Rounded to a multiple of OUTBOX_RELAY_INTERVAL_MS.
   */
  RELAY_RESUME_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 5_000 }),
  /**
   * How long the instance that accepted a notification owns its first publish
   * before the relay may republish it. Longer than the publish timeout, so a
   * slow confirm is not raced by a second copy.
   */
  OUTBOX_GRACE_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /**
   * How long a confirmation waits for others before the accepting instance writes them as one
   * `outbox_confirmations` record (nobody waits on it: the 202 and the inbox event are out). With
   * none, at 1,360 notifications/s each record held 3 of them, and those writes were 43 % of the
   * service's database commands. At most a tenth of OUTBOX_GRACE_MS: a record must be written well
   * before the relay looks at its notifications.
   */
  OUTBOX_CONFIRM_LINGER_MS: Type.Integer({ minimum: 0, maximum: 1_000, default: 100 }),
  /** how long a relay claim on one notification or broadcast lasts; longer than a publish can take */
  OUTBOX_LEASE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** notifications the relay claims per pass */
  OUTBOX_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** recipients a broadcast inserts and publishes at a time */
  BROADCAST_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
  /** how long an Idempotency-Key answers with the first response */
  IDEMPOTENCY_WINDOW_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 24 }),
  /** Mailgun's webhook signing key; unset, the Mailgun webhook answers 503 and accepts nothing */
  MAILGUN_WEBHOOK_SIGNING_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Twilio's auth token, the key of `X-Twilio-Signature`; unset, the Twilio webhook answers 503 */
  TWILIO_AUTH_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  /** SendGrid's Event Webhook verification key (base64 DER, from its settings); unset, that webhook answers 503 */
  SENDGRID_WEBHOOK_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  /** the origin providers call us at (the gateway's): Twilio signs the full URL it called */
  PUBLIC_BASE_URL: Type.String({ minLength: 1, default: 'http://localhost:8080' }),
  /**
   * The HMAC key of the one-click unsubscribe links (RFC 8058) in every
   * non-critical email; unset, emails carry no List-Unsubscribe and the link
   * answers 503. The development value is refused in production.
   */
  UNSUBSCRIBE_SECRET: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
  /** how long an unsubscribe link works after its email was accepted */
  UNSUBSCRIBE_LINK_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 60 }),
  /** an address whose mail you process as unsubscribe requests: the mailto of List-Unsubscribe */
  UNSUBSCRIBE_MAILTO: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^@\\s<>?,]+@[^@\\s<>?,]+$' })),
  /** your application's preference page, for `{{preferencesUrl}}`; unset: the link's own page */
  PREFERENCES_PAGE_URL: Type.Optional(
    Type.String({ minLength: 1, maxLength: 2000, pattern: '^https?://[^\\s"<>\x27]+$' }),
  ),
  /** a signed webhook older (or further in the future) than this is rejected */
  WEBHOOK_MAX_AGE_SECONDS: Type.Integer({ minimum: 10, maximum: 86_400, default: 300 }),
  /** the largest webhook body accepted */
  WEBHOOK_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10_485_760, default: 65_536 }),
  /**
   * How long an instance trusts its cached "current version" of a template.
   * An edit on another instance reaches sends here at the latest after it;
   * 0 reads the head on every send (compiled versions stay cached).
   */
  TEMPLATE_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 300_000, default: 5_000 }),
  /**
   * How long an instance trusts its cached copy of a caller's account (role,
   * disabled) from the users read model. A role change or `disabled` reaches
   * requests on every instance within this plus the event's way from auth;
   * at most 4 s, so that stays within 5 s. 0 reads the read model on every request.
   */
  USER_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 4_000, default: 2_000 }),
  /** requests per second per API key, per instance (token bucket); past it 429 + Retry-After */
  API_KEY_RATE_LIMIT_PER_SECOND: Type.Integer({ minimum: 1, maximum: 100_000, default: 50 }),
  /**
   * How long an instance trusts a key it read from its API-key read model
   * (0–2000 ms): a revocation applies on every instance within the event's
   * way from auth plus this.
   */
  API_KEY_CACHE_MS: Type.Integer({ minimum: 0, maximum: 2_000, default: 2_000 }),
  ...QuotaEnv,
  /** ISO 3166-1 alpha-2 codes, comma-separated (`US,CA,GB`): the only countries SMS goes to; empty: all */
  /**
   * Where SMS may go: comma-separated E.164 prefixes (`+44,+33`; `+1204` narrows inside `+1`);
   * unset, empty or `*`: every valid number. The worker reads the same variable as its last guard.
   */
  SMS_ALLOWED_COUNTRIES: Type.Optional(Type.String()),
  /**
   * The VAPID public key (base64url, the same as the worker's): served at
   * GET /api/v1/push-subscriptions/vapid-public-key for browsers to subscribe with.
   * Unset: Web Push is off (subscribing answers 503, the push channel 422).
   */
  VAPID_PUBLIC_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' })),
  /** tests and local development only: accept http push endpoints on loopback (refused in production) */
  PUSH_ALLOW_LOOPBACK_HTTP: Type.Boolean({ default: false }),
  ...EventWebhookEnv,
};

/**
 * Refuses, in production, to start without WEBHOOK_SECRETS_KEY (the
 * development key would be the one this repository publishes), or with that
 * development key among WEBHOOK_SECRETS_PREVIOUS_KEYS.
 */
export function requireWebhookSecretsKey(service: string, values: Record<string, unknown>): void {
  if (values.NODE_ENV !== 'production') return;
  const problems: string[] = [];
  if (!values.WEBHOOK_SECRETS_KEY) {
    problems.push(
      "WEBHOOK_SECRETS_KEY: required in production (it encrypts the event webhooks' signing secrets): 32 random bytes, base64, e.g. openssl rand -base64 32",
    );
  }
  const previous =
    typeof values.WEBHOOK_SECRETS_PREVIOUS_KEYS === 'string' ? values.WEBHOOK_SECRETS_PREVIOUS_KEYS : '';
  if (previous.split(',').some((key) => key.trim() === DEVELOPMENT_WEBHOOK_SECRETS_KEY)) {
    problems.push(
      'WEBHOOK_SECRETS_PREVIOUS_KEYS: holds the development key this repository publishes; a secret sealed under it is as good as plaintext: register those endpoints again instead',
    );
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
}

export const loadConfig = () =>
  loadConfigOrExit('notification', NotificationEnv, process.env, (service, values) => {
    refuseDevelopmentSecrets(service, values);
    requireWebhookSecretsKey(service, values);
  });
export type Config = ReturnType<typeof loadConfig>;

/** The knobs of the service's own behaviour, separate from where its dependencies live. */
export interface ServiceSettings {
  prefetch: number;
  relayIntervalMs: number;
  /** the resume passes' interval (RELAY_RESUME_INTERVAL_MS), in multiples of relayIntervalMs */
  relayResumeIntervalMs: number;
  outboxGraceMs: number;
  /** OUTBOX_CONFIRM_LINGER_MS (the log lingers at most a tenth of outboxGraceMs) */
  outboxConfirmLingerMs: number;
  outboxLeaseMs: number;
  outboxBatchSize: number;
  broadcastBatchSize: number;
  idempotencyWindowMs: number;
  /** how long shutdown waits for in-flight messages and background work */
  drainTimeoutMs: number;
  mailgunWebhookSigningKey?: string;
  twilioAuthToken?: string;
  /** SendGrid's ECDSA verification key, base64 DER SPKI as its settings show it */
  sendgridWebhookPublicKey?: string;
  publicBaseUrl: string;
  webhookMaxAgeMs: number;
  webhookBodyLimitBytes: number;
  /** whose X-Forwarded-For is believed: the gateway's (proxy-addr names or addresses) */
  trustedProxies: string;
  templateCacheTtlMs: number;
  /** how long a caller's account from the read model is cached per instance */
  userCacheTtlMs: number;
  /** requests per second per API key on this instance */
  apiKeyRateLimitPerSecond: number;
  /** how long a key read from the read model is trusted on this instance (≤ 2000) */
  apiKeyCacheMs: number;
  /** per channel: sends a normal user may make per minute and per day (0 = unlimited) */
  sendQuotas: SendQuotaLimits;
  /** E.164 prefixes an SMS may go to, or every valid number (`@herald/runtime/phone`) */
  smsAllowList: SmsAllowList;
  /** outgoing webhooks: where they may go, how they are retried */
  eventWebhooks: EventWebhookSettings;
  /** Web Push's application server key; unset: push is off */
  vapidPublicKey?: string;
  /** accept push endpoints on loopback (http or https), for tests */
  pushAllowLoopbackHttp: boolean;
  /** one-click unsubscribe links; absent: emails carry none and the link answers 503 */
  unsubscribe?: UnsubscribeSettings;
}

export interface UnsubscribeSettings {
  secret: string;
  /** how long a link works after its email was accepted */
  linkTtlMs: number;
  mailto?: string;
  /** `{{preferencesUrl}}`: the application's page, else the link's own page */
  preferencesPageUrl?: string;
}

export interface EventWebhookSettings {
  allowPrivate: boolean;
  /** lowercase host names and IP addresses allowed though internal */
  allowedHosts: string[];
  timeoutMs: number;
  pollIntervalMs: number;
  /** a failing delivery is retried until this long after its first attempt */
  retryWindowMs: number;
  /** an endpoint failing for this long with at least `disableAfterFailures` failures in a row is disabled */
  disableAfterMs: number;
  disableAfterFailures: number;
  secretGraceMs: number;
  /** how long an instance trusts its list of endpoints (the accept path reads it) */
  cacheMs: number;
  /** how long a claimed delivery is this instance's; longer than a delivery can take */
  leaseMs: number;
  /** due deliveries read per pass */
  batchSize: number;
  /** deliveries in flight at once per instance */
  concurrency: number;
  /** the AES-256-GCM key of the stored signing secrets (WEBHOOK_SECRETS_KEY, 32 bytes) */
  secretsKey: Buffer;
  /** earlier keys, to open and re-seal what they sealed (WEBHOOK_SECRETS_PREVIOUS_KEYS) */
  previousSecretsKeys: Buffer[];
}

export const defaultEventWebhookSettings: EventWebhookSettings = {
  allowPrivate: false,
  allowedHosts: [],
  timeoutMs: 10_000,
  pollIntervalMs: 1_000,
  retryWindowMs: 24 * 3_600_000,
  disableAfterMs: 72 * 3_600_000,
  disableAfterFailures: 10,
  secretGraceMs: 24 * 3_600_000,
  cacheMs: 2_000,
  leaseMs: 60_000,
  batchSize: 100,
  concurrency: 10,
  // tests and apps built without settings; the server always sets its own (settingsFrom)
  secretsKey: secretsKeyFromBase64(DEVELOPMENT_WEBHOOK_SECRETS_KEY),
  previousSecretsKeys: [],
};

export function settingsFrom(config: Config): ServiceSettings {
  if (config.NODE_ENV === 'production' && config.PUSH_ALLOW_LOOPBACK_HTTP) {
    throw new Error('PUSH_ALLOW_LOOPBACK_HTTP is for tests and development: refused in production');
  }
  requireWebhookSecretsKey('notification', config);
  return {
    prefetch: config.AMQP_PREFETCH,
    relayIntervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
    relayResumeIntervalMs: config.RELAY_RESUME_INTERVAL_MS,
    outboxGraceMs: config.OUTBOX_GRACE_MS,
    outboxConfirmLingerMs: config.OUTBOX_CONFIRM_LINGER_MS,
    outboxLeaseMs: config.OUTBOX_LEASE_MS,
    outboxBatchSize: config.OUTBOX_BATCH_SIZE,
    broadcastBatchSize: config.BROADCAST_BATCH_SIZE,
    idempotencyWindowMs: config.IDEMPOTENCY_WINDOW_HOURS * 3_600_000,
    drainTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    ...(config.MAILGUN_WEBHOOK_SIGNING_KEY
      ? { mailgunWebhookSigningKey: config.MAILGUN_WEBHOOK_SIGNING_KEY }
      : {}),
    ...(config.TWILIO_AUTH_TOKEN ? { twilioAuthToken: config.TWILIO_AUTH_TOKEN } : {}),
    ...(config.SENDGRID_WEBHOOK_PUBLIC_KEY
      ? { sendgridWebhookPublicKey: config.SENDGRID_WEBHOOK_PUBLIC_KEY }
      : {}),
    publicBaseUrl: config.PUBLIC_BASE_URL,
    webhookMaxAgeMs: config.WEBHOOK_MAX_AGE_SECONDS * 1000,
    webhookBodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    trustedProxies: config.TRUSTED_PROXIES,
    templateCacheTtlMs: config.TEMPLATE_CACHE_TTL_MS,
    userCacheTtlMs: config.USER_CACHE_TTL_MS,
    apiKeyRateLimitPerSecond: config.API_KEY_RATE_LIMIT_PER_SECOND,
    apiKeyCacheMs: config.API_KEY_CACHE_MS,
    sendQuotas: {
      in_app: { perMinute: config.QUOTA_IN_APP_PER_MINUTE, perDay: config.QUOTA_IN_APP_PER_DAY },
      email: { perMinute: config.QUOTA_EMAIL_PER_MINUTE, perDay: config.QUOTA_EMAIL_PER_DAY },
      sms: { perMinute: config.QUOTA_SMS_PER_MINUTE, perDay: config.QUOTA_SMS_PER_DAY },
      push: { perMinute: config.QUOTA_PUSH_PER_MINUTE, perDay: config.QUOTA_PUSH_PER_DAY },
    },
    smsAllowList: parseSmsAllowList(config.SMS_ALLOWED_COUNTRIES),
    ...(config.VAPID_PUBLIC_KEY ? { vapidPublicKey: config.VAPID_PUBLIC_KEY } : {}),
    pushAllowLoopbackHttp: config.PUSH_ALLOW_LOOPBACK_HTTP,
    ...(config.UNSUBSCRIBE_SECRET
      ? {
          unsubscribe: {
            secret: config.UNSUBSCRIBE_SECRET,
            linkTtlMs: config.UNSUBSCRIBE_LINK_TTL_DAYS * 86_400_000,
            ...(config.UNSUBSCRIBE_MAILTO ? { mailto: config.UNSUBSCRIBE_MAILTO } : {}),
            ...(config.PREFERENCES_PAGE_URL ? { preferencesPageUrl: config.PREFERENCES_PAGE_URL } : {}),
          },
        }
      : {}),
    eventWebhooks: {
      ...defaultEventWebhookSettings,
      allowPrivate: config.EVENT_WEBHOOK_ALLOW_PRIVATE,
      allowedHosts: config.EVENT_WEBHOOK_ALLOWED_HOSTS.split(',')
        .map((host) =>
          host
            .trim()
            .toLowerCase()
            .replace(/^\[(.*)\]$/, '$1'),
        )
        .filter(Boolean),
      timeoutMs: config.EVENT_WEBHOOK_TIMEOUT_MS,
      pollIntervalMs: config.EVENT_WEBHOOK_POLL_INTERVAL_MS,
      retryWindowMs: config.EVENT_WEBHOOK_RETRY_HOURS * 3_600_000,
      disableAfterMs: config.EVENT_WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
      secretGraceMs: config.EVENT_WEBHOOK_SECRET_GRACE_HOURS * 3_600_000,
      secretsKey: secretsKeyFromBase64(config.WEBHOOK_SECRETS_KEY ?? DEVELOPMENT_WEBHOOK_SECRETS_KEY),
      previousSecretsKeys: secretsKeysFromList(config.WEBHOOK_SECRETS_PREVIOUS_KEYS),
    },
  };
}

/**
 * How long the confirmation log lingers: OUTBOX_CONFIRM_LINGER_MS, at most a tenth of the grace
 * period, so a record is written long before the relay looks at the notifications it confirms.
 */
export function confirmationLingerMs(
  settings: Pick<ServiceSettings, 'outboxConfirmLingerMs' | 'outboxGraceMs'>,
) {
  return Math.min(settings.outboxConfirmLingerMs, Math.floor(settings.outboxGraceMs / 10));
}

export const defaultSettings: ServiceSettings = {
  prefetch: 100,
  relayIntervalMs: 500,
  relayResumeIntervalMs: 5_000,
  outboxGraceMs: 15_000,
  outboxConfirmLingerMs: 100,
  outboxLeaseMs: 30_000,
  outboxBatchSize: 100,
  broadcastBatchSize: 500,
  idempotencyWindowMs: 24 * 3_600_000,
  drainTimeoutMs: 10_000,
  publicBaseUrl: 'http://localhost:8080',
  webhookMaxAgeMs: 300_000,
  webhookBodyLimitBytes: 65_536,
  trustedProxies: 'loopback',
  templateCacheTtlMs: 5_000,
  userCacheTtlMs: 2_000,
  apiKeyRateLimitPerSecond: 50,
  apiKeyCacheMs: 2_000,
  sendQuotas: DEFAULT_SEND_QUOTAS,
  smsAllowList: ALL_DESTINATIONS,
  pushAllowLoopbackHttp: false,
  eventWebhooks: defaultEventWebhookSettings,
};
