import { Type } from '@sinclair/typebox';
import {
  AmqpEnv,
  CommonEnv,
  MongoEnv,
  ProxyEnv,
  loadConfigOrExit,
  refuseDevelopmentSecrets,
} from '@herald/runtime';
import { type RetryPolicy } from '@herald/amqp';
import { parseSmsAllowList, type SmsAllowList } from '@herald/runtime/phone';
import { type BreakerSettings } from './failover/circuit-breaker';

const Optional = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const DeliveryWorkerEnv = {
  ...CommonEnv,
  ...MongoEnv,
  ...AmqpEnv,
  ...ProxyEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3003 }),
  /** unacked email jobs in flight: how many sends run at once */
  EMAIL_PREFETCH: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  SMS_PREFETCH: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  PUSH_PREFETCH: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  /** attempts per job including the first; after the last transient failure the job is dead */
  RETRY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  /** comma-separated waits before retry 1, 2, …; the last one repeats (defaults spread 8 attempts over ~28 min) */
  RETRY_DELAYS_MS: Type.String({
    pattern: '^\\d+(,\\d+)*$',
    default: '2000,10000,30000,60000,180000,480000,900000',
  }),
  /** ± fraction of each wait, so a burst of failures does not come back as one burst */
  RETRY_JITTER: Type.Number({ minimum: 0, maximum: 0.9, default: 0.2 }),
  /** a provider call taking longer fails as a (transient) timeout; both APIs answer in well under a second */
  PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** how long one worker owns a send; must outlast PROVIDER_TIMEOUT_MS so a live send is never raced */
  SEND_LEASE_MS: Type.Integer({ minimum: 200, default: 30_000 }),
  /**
   * A send whose outcome is unclear (a timeout, a lost answer) is looked up at its provider only once
   * its call started at least this long ago: a provider shows a message it took only after a lag, and
   * a lookup before that would find nothing and send it again. The worker waits for it holding the
   * lease, so it must leave room for the lookup and the send: at most SEND_LEASE_MS − 2 ×
   * PROVIDER_TIMEOUT_MS, which is also the value when unset (0 if that is negative).
   */
  PROVIDER_LOOKUP_DELAY_MS: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * On shutdown, how long in-flight sends may finish before their jobs go back to the queue.
   * Longer than PROVIDER_TIMEOUT_MS, so every send in flight ends (accepted or timed out) before
   * its job is requeued; shorter than SHUTDOWN_TIMEOUT_MS, so the process still closes cleanly.
   */
  DRAIN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 8_000 }),
  /** per-instance send rates (tokens per second, 0 = unlimited) and bursts; see TokenBucket */
  EMAIL_RATE_PER_SECOND: Type.Number({ minimum: 0, default: 50 }),
  EMAIL_RATE_BURST: Type.Integer({ minimum: 1, default: 50 }),
  SMS_RATE_PER_SECOND: Type.Number({ minimum: 0, default: 10 }),
  SMS_RATE_BURST: Type.Integer({ minimum: 1, default: 10 }),
  /** push jobs per second (each reaches all of its recipient's browsers) */
  PUSH_RATE_PER_SECOND: Type.Number({ minimum: 0, default: 50 }),
  PUSH_RATE_BURST: Type.Integer({ minimum: 1, default: 50 }),
  MAILGUN_API_KEY: Optional('Mailgun private API key; without it email goes to the log provider'),
  MAILGUN_DOMAIN: Optional('the sending domain, e.g. mg.example.com'),
  /** https://api.eu.mailgun.net for the EU region, or a local fake */
  MAILGUN_URL: Type.String({ minLength: 1, default: 'https://api.mailgun.net' }),
  MAILGUN_FROM: Optional(
    'the From header, e.g. "Herald <noreply@mg.example.com>"; defaults to noreply@MAILGUN_DOMAIN',
  ),
  TWILIO_ACCOUNT_SID: Optional('without it SMS goes to the log provider'),
  TWILIO_AUTH_TOKEN: Optional('Twilio auth token'),
  TWILIO_FROM: Optional('the sending number (E.164); or set TWILIO_MESSAGING_SERVICE_SID'),
  TWILIO_MESSAGING_SERVICE_SID: Optional('a Messaging Service; preferred over TWILIO_FROM when both are set'),
  /** replaces https://api.twilio.com, e.g. a local fake */
  TWILIO_API_URL: Optional('base URL of the Twilio REST API'),
  /**
   * Where SMS may go (the last guard against SMS pumping): comma-separated E.164 prefixes, each
   * starting with a country calling code (`+44,+33,+1`; `+1204` cuts inside a shared code), or
   * `*` for every country. Unset: every country, for development; production should list the
   * countries it serves (unset in production is logged as a warning at start). A number outside
   * the list, or not a valid number at all, fails permanently without reaching the provider.
   */
  SMS_ALLOWED_COUNTRIES: Type.Optional(
    Type.String({
      pattern: '^\\s*(\\*|\\+\\d{1,15}(\\s*,\\s*\\+\\d{1,15})*)?\\s*$',
      description: 'E.164 prefixes SMS may go to, e.g. "+44,+33,+1"; "*", empty or unset: all',
    }),
  ),
  /**
   * Development only: the log provider also logs each message's text, HTML and SMS body. Off by
   * default because they hold single-use links (email verification, password reset) that must not
   * reach log files; refused in production.
   */
  LOG_PROVIDER_CONTENT: Type.Boolean({ default: false }),
  /**
   * Each channel's providers in order of preference, comma-separated: email from mailgun, smtp,
   * sendgrid, log; SMS from twilio, log; push (PUSH_PROVIDERS) from webpush, log. Unset: the channel's one provider when its credentials
   * are set, else the log provider (refused in production). A listed provider without its
   * credentials, an unknown name, a repeated one or an empty list stops the worker at start.
   */
  EMAIL_PROVIDERS: Type.Optional(Type.String({ description: 'e.g. "mailgun,smtp,sendgrid"' })),
  SMS_PROVIDERS: Type.Optional(Type.String({ description: 'e.g. "twilio"' })),
  /** Web Push's chain: webpush, log. Unset: webpush when the VAPID keys are set, else log */
  PUSH_PROVIDERS: Type.Optional(Type.String({ description: 'e.g. "webpush"' })),
  /**
   * The application server's VAPID key pair (RFC 8292), base64url as `npx web-push
   * generate-vapid-keys` prints it; the notification service serves the public key to browsers,
   * which subscribe with it, so both services must have the same one.
   */
  VAPID_PUBLIC_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' })),
  VAPID_PRIVATE_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
  /** who runs this server, for the push services: a mailto: or https: URL */
  VAPID_SUBJECT: Type.Optional(Type.String({ pattern: '^(mailto:|https://)\\S+$' })),
  /** how long a push service keeps a message for a browser that is offline */
  /** push endpoints on private, loopback or link-local addresses are refused unless this is true (development, tests) */
  PUSH_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /** comma-separated host names or IP addresses allowed as push endpoints even though internal */
  PUSH_ALLOWED_HOSTS: Type.String({ default: '' }),
  PUSH_TTL_SECONDS: Type.Integer({ minimum: 0, maximum: 2_419_200, default: 86_400 }),
  /** consecutive provider failures (5xx, 429, timeouts, refused connections) that open its circuit */
  CIRCUIT_FAILURE_THRESHOLD: Type.Integer({ minimum: 1, default: 5 }),
  /** how long an open circuit skips its provider before one trial send (half-open) */
  CIRCUIT_RESET_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  SMTP_HOST: Optional('SMTP server host name'),
  SMTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it */
  SMTP_SECURE: Type.Boolean({ default: false }),
  SMTP_USER: Optional('SMTP user name (AUTH); unset: no authentication'),
  SMTP_PASS: Optional('SMTP password'),
  SMTP_FROM: Optional('the From header of SMTP mail, e.g. "Herald <noreply@example.com>"'),
  SENDGRID_API_KEY: Optional('SendGrid API key (Mail Send; Email Activity read access for reconciliation)'),
  /** https://api.eu.sendgrid.com for EU data residency, or a local fake */
  SENDGRID_URL: Type.String({ minLength: 1, default: 'https://api.sendgrid.com' }),
  SENDGRID_FROM: Optional('a verified sender address, e.g. noreply@example.com'),
  SENDGRID_FROM_NAME: Optional('the display name of SENDGRID_FROM'),
  /** the gateway's public URL: Twilio posts status callbacks to {PUBLIC_BASE_URL}/api/v1/webhooks/twilio */
  PUBLIC_BASE_URL: Type.String({ minLength: 1, default: 'http://localhost:8080' }),
};

export const loadConfig = () =>
  loadConfigOrExit('delivery-worker', DeliveryWorkerEnv, process.env, refuseDevelopmentSecrets);
export type Config = ReturnType<typeof loadConfig>;

/** The knobs of the worker's own behaviour, separate from where its dependencies live. */
export interface WorkerSettings {
  /** whose X-Forwarded-For is believed (the gateway's); default loopback */
  trustedProxies?: string;
  prefetch: { email: number; sms: number; push: number };
  leaseMs: number;
  /** an unclear send is looked up only once its provider call started at least this long ago */
  lookupDelayMs: number;
  drainTimeoutMs: number;
  rates: { email: RateSettings; sms: RateSettings; push: RateSettings };
  /** the E.164 prefixes an SMS may go to, or every valid number */
  smsAllowList: SmsAllowList;
  /** every provider's circuit breaker */
  breakers: BreakerSettings;
}

export interface RateSettings {
  perSecond: number;
  burst: number;
}

export function settingsFrom(config: Config): WorkerSettings {
  if (config.SEND_LEASE_MS <= config.PROVIDER_TIMEOUT_MS) {
    throw new Error('SEND_LEASE_MS must be longer than PROVIDER_TIMEOUT_MS, or a slow send could be raced');
  }
  // the wait, then the lookup and the send, each up to PROVIDER_TIMEOUT_MS, all inside the lease
  const lookupRoom = Math.max(0, config.SEND_LEASE_MS - 2 * config.PROVIDER_TIMEOUT_MS);
  if (config.PROVIDER_LOOKUP_DELAY_MS !== undefined && config.PROVIDER_LOOKUP_DELAY_MS > lookupRoom) {
    throw new Error(
      `PROVIDER_LOOKUP_DELAY_MS must be at most SEND_LEASE_MS − 2 × PROVIDER_TIMEOUT_MS (${lookupRoom}), or the lease could run out while a send waits for its lookup`,
    );
  }
  return {
    trustedProxies: config.TRUSTED_PROXIES,
    prefetch: { email: config.EMAIL_PREFETCH, sms: config.SMS_PREFETCH, push: config.PUSH_PREFETCH },
    leaseMs: config.SEND_LEASE_MS,
    lookupDelayMs: config.PROVIDER_LOOKUP_DELAY_MS ?? lookupRoom,
    drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
    rates: {
      email: { perSecond: config.EMAIL_RATE_PER_SECOND, burst: config.EMAIL_RATE_BURST },
      sms: { perSecond: config.SMS_RATE_PER_SECOND, burst: config.SMS_RATE_BURST },
      push: { perSecond: config.PUSH_RATE_PER_SECOND, burst: config.PUSH_RATE_BURST },
    },
    smsAllowList: parseSmsAllowList(config.SMS_ALLOWED_COUNTRIES),
    breakers: {
      failureThreshold: config.CIRCUIT_FAILURE_THRESHOLD,
      resetTimeoutMs: config.CIRCUIT_RESET_TIMEOUT_MS,
    },
  };
}

export function retryPolicyFrom(config: Config): RetryPolicy {
  return {
    maxAttempts: config.RETRY_MAX_ATTEMPTS,
    delaysMs: config.RETRY_DELAYS_MS.split(',').map(Number),
    jitter: config.RETRY_JITTER,
  };
}

export const EMAIL_PROVIDER_NAMES = ['mailgun', 'smtp', 'sendgrid', 'log'] as const;
export const SMS_PROVIDER_NAMES = ['twilio', 'log'] as const;
export const PUSH_PROVIDER_NAMES = ['webpush', 'log'] as const;
export type EmailProviderName = (typeof EMAIL_PROVIDER_NAMES)[number];
export type SmsProviderName = (typeof SMS_PROVIDER_NAMES)[number];
export type PushProviderName = (typeof PUSH_PROVIDER_NAMES)[number];

/** The variables each provider cannot work without. */
const REQUIRED: Record<EmailProviderName | SmsProviderName | PushProviderName, (keyof Config)[]> = {
  mailgun: ['MAILGUN_API_KEY', 'MAILGUN_DOMAIN'],
  smtp: ['SMTP_HOST', 'SMTP_FROM'],
  sendgrid: ['SENDGRID_API_KEY', 'SENDGRID_FROM'],
  twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
  webpush: ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'],
  log: [],
};

/**
 * The email and SMS chains the configuration asks for, checked: every name
 * known, none twice, at least one per channel, each with its credentials.
 * A bad chain throws naming the variable, and the worker does not start.
 * Unset, a channel has its one provider whose credentials are set, else `log`.
 */
export function providerChainsFrom(config: Config): {
  email: EmailProviderName[];
  sms: SmsProviderName[];
  push: PushProviderName[];
} {
  return {
    email: chainOf(config, 'EMAIL_PROVIDERS', EMAIL_PROVIDER_NAMES, 'mailgun'),
    sms: chainOf(config, 'SMS_PROVIDERS', SMS_PROVIDER_NAMES, 'twilio'),
    push: chainOf(config, 'PUSH_PROVIDERS', PUSH_PROVIDER_NAMES, 'webpush'),
  };
}

function chainOf<N extends EmailProviderName | SmsProviderName | PushProviderName>(
  config: Config,
  variable: 'EMAIL_PROVIDERS' | 'SMS_PROVIDERS' | 'PUSH_PROVIDERS',
  known: readonly N[],
  fallback: N,
): N[] {
  const value = config[variable];
  if (value === undefined) {
    return [REQUIRED[fallback].every((name) => config[name] !== undefined) ? fallback : ('log' as N)];
  }
  const names = value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (names.length === 0)
    throw new Error(`${variable} lists no provider: name at least one of ${known.join(', ')}`);
  const chain: N[] = [];
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) {
      throw new Error(`${variable}: unknown provider "${name}" (known: ${known.join(', ')})`);
    }
    if ((chain as string[]).includes(name)) throw new Error(`${variable} names ${name} twice`);
    chain.push(name as N);
  }
  for (const name of chain) {
    const missing = REQUIRED[name].filter((required) => config[required] === undefined);
    if (missing.length) {
      throw new Error(
        `${variable} names ${name}, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
      );
    }
  }
  return chain;
}
