import { createServer } from 'node:net';
import { FakeMailgun, FakeTwilio } from '@herald/fake-providers';
import { testLogger } from '@herald/test-support';
import {
  classifyMailgunError,
  classifyTwilioError,
  networkCause,
  TwilioRetryLater,
} from '../src/deliveries/domain/classify';
import {
  MAX_RETRY_AFTER_MS,
  ProviderPermanentError,
  ProviderTransientError,
  parseRetryAfter,
} from '../src/deliveries/domain/delivery-errors';
import { loadConfig } from '@herald/runtime';
import { DeliveryWorkerEnv, settingsFrom } from '../src/config';
import { createProviders } from '../src/providers/create-providers';
import { LogProvider } from '../src/providers/log-provider';
import { MailgunProvider } from '../src/providers/mailgun';
import { TwilioProvider } from '../src/providers/twilio';
import { emailJob, smsJob } from './harness';

const mailgunError = (status: number, message: string, details = '', retryAfter?: string) =>
  Object.assign(new Error(message), {
    status,
    details,
    type: 'MailgunAPIError',
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
const twilioError = (status: number, code?: number, message = 'twilio says no') =>
  Object.assign(new Error(message), { status, code });

function kindOf(error: ProviderTransientError | ProviderPermanentError) {
  return {
    kind: error instanceof ProviderPermanentError ? 'permanent' : 'transient',
    code: error.code,
    providerCode: error.providerCode,
  };
}

describe('error classification', () => {
  it.each([
    [
      'refused connection (mailgun.js: 400 + ECONNREFUSED)',
      mailgunError(400, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      'transient',
      'provider_unreachable',
      undefined,
    ],
    [
      'reset connection',
      mailgunError(400, 'ECONNRESET', 'socket hang up'),
      'transient',
      'provider_unreachable',
      undefined,
    ],
    [
      'timeout (mailgun.js: 400 + ECONNABORTED)',
      mailgunError(400, 'ECONNABORTED', 'timeout of 1000ms exceeded'),
      'transient',
      'provider_timeout',
      undefined,
    ],
    ['429', mailgunError(429, 'Too Many Requests'), 'transient', 'provider_rate_limited', '429'],
    ['500', mailgunError(500, 'Internal Server Error'), 'transient', 'provider_unavailable', '500'],
    ['503', mailgunError(503, 'Service Unavailable'), 'transient', 'provider_unavailable', '503'],
    ['408', mailgunError(408, 'Request Timeout'), 'transient', 'provider_unavailable', '408'],
    [
      '400 invalid recipient',
      mailgunError(400, 'Bad Request', "'to' parameter is not a valid address"),
      'permanent',
      'rejected_by_provider',
      '400',
    ],
    [
      '401 bad key',
      mailgunError(401, 'Unauthorized', 'Forbidden'),
      'permanent',
      'provider_auth_failed',
      '401',
    ],
    [
      '403 unverified domain',
      mailgunError(403, 'Forbidden', 'Domain not allowed'),
      'permanent',
      'provider_auth_failed',
      '403',
    ],
    [
      '404 unknown domain',
      mailgunError(404, 'Not Found', 'Domain not found'),
      'permanent',
      'rejected_by_provider',
      '404',
    ],
    ['something else thrown', new TypeError('x is undefined'), 'transient', 'provider_error', undefined],
  ])('Mailgun: %s → %s %s', (_case, error, kind, code, providerCode) => {
    expect(kindOf(classifyMailgunError(error))).toEqual({ kind, code, providerCode });
  });

  it.each([
    ['21211 invalid number', twilioError(400, 21211), 'permanent', 'invalid_number', '21211'],
    ['21610 unsubscribed', twilioError(400, 21610), 'permanent', 'unsubscribed', '21610'],
    ['21614 not a mobile', twilioError(400, 21614), 'permanent', 'not_mobile', '21614'],
    ['21606 unverified sender', twilioError(400, 21606), 'permanent', 'invalid_sender', '21606'],
    ['another 400', twilioError(400, 21000), 'permanent', 'rejected_by_provider', '21000'],
    ['401 / 20003 bad credentials', twilioError(401, 20003), 'permanent', 'provider_auth_failed', '20003'],
    ['429 (our HTTP client)', new TwilioRetryLater(429, '2'), 'transient', 'provider_rate_limited', '20429'],
    [
      '503 with Retry-After (our HTTP client)',
      new TwilioRetryLater(503, '2'),
      'transient',
      'provider_unavailable',
      '503',
    ],
    ['500', twilioError(500, 20500), 'transient', 'provider_unavailable', '20500'],
    ['503 without a code', twilioError(503), 'transient', 'provider_unavailable', '503'],
    [
      'axios ECONNREFUSED',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      'transient',
      'provider_unreachable',
      undefined,
    ],
    [
      'axios timeout',
      Object.assign(new Error('timeout of 1000ms exceeded'), { code: 'ECONNABORTED' }),
      'transient',
      'provider_timeout',
      undefined,
    ],
  ])('Twilio: %s → %s %s', (_case, error, kind, code, providerCode) => {
    expect(kindOf(classifyTwilioError(error))).toEqual({ kind, code, providerCode });
  });

  it('never keeps a client error whole as the cause: axios errors carry the Authorization header', () => {
    const axiosError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), {
      code: 'ECONNREFUSED',
      config: { headers: { Authorization: 'Basic QUM6c2VjcmV0' } },
    });
    const classified = classifyTwilioError(axiosError);
    expect(classified.cause).toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
    expect(JSON.stringify(classified.cause)).not.toContain('Basic');
    expect(Object.keys(classified.cause as object)).not.toContain('config');
  });

  it('carries a Twilio Retry-After into the retry, for a 429 and a 503', () => {
    const throttled = classifyTwilioError(new TwilioRetryLater(429, '2'));
    expect(throttled).toBeInstanceOf(ProviderTransientError);
    expect((throttled as ProviderTransientError).retryAfterMs).toBe(2_000);
    const unavailable = classifyTwilioError(new TwilioRetryLater(503, '7'));
    expect((unavailable as ProviderTransientError).retryAfterMs).toBe(7_000);
  });

  it('carries a Mailgun Retry-After into the retry, as seconds or as an HTTP date, for a 429 and a 503', () => {
    const seconds = classifyMailgunError(mailgunError(429, 'Too Many Requests', '', '3'));
    expect(seconds).toBeInstanceOf(ProviderTransientError);
    expect((seconds as ProviderTransientError).retryAfterMs).toBe(3_000);

    // An HTTP date a minute ahead: whatever the clock did since, the wait is most of that minute.
    const date = new Date(Date.now() + 60_000).toUTCString();
    const dated = classifyMailgunError(mailgunError(503, 'Service Unavailable', '', date));
    expect(dated).toMatchObject({ code: 'provider_unavailable' });
    expect((dated as ProviderTransientError).retryAfterMs).toBeGreaterThan(30_000);
    expect((dated as ProviderTransientError).retryAfterMs).toBeLessThanOrEqual(60_000);

    expect((classifyMailgunError(mailgunError(429, 'x')) as ProviderTransientError).retryAfterMs).toBe(
      undefined,
    );
    // Only a 429 or 503 asks us to wait.
    expect(
      (classifyMailgunError(mailgunError(500, 'x', '', '3')) as ProviderTransientError).retryAfterMs,
    ).toBeUndefined();
  });

  it('bounds a Retry-After at MAX_RETRY_AFTER_MS, so one answer cannot stop a channel for a day', () => {
    expect(parseRetryAfter('86400')).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter(new Date(Date.now() + 86_400_000).toUTCString())).toBe(MAX_RETRY_AFTER_MS);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('finds socket error codes in free text but not in ordinary words', () => {
    expect(networkCause('connect ECONNREFUSED 10.0.0.1:443')).toBe('network');
    expect(networkCause('getaddrinfo ENOTFOUND api.mailgun.net')).toBe('network');
    expect(networkCause("'to' parameter is not a valid address")).toBeUndefined();
  });
});

describe('the real clients classify real network failures', () => {
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('mailgun.js: a refused connection is transient, though mailgun.js calls it a 400', async () => {
    const provider = new MailgunProvider({
      apiKey: 'key',
      domain: 'mg.example.com',
      url: `http://127.0.0.1:${await closedPort()}`,
      from: 'a@mg.example.com',
      timeoutMs: 1_000,
    });
    const failure = await provider.send(emailJob()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderTransientError);
    expect(failure).toMatchObject({ code: 'provider_unreachable' });
    expect((failure as Error).cause).toMatchObject({ status: 400 });
  });

  it('mailgun.js and twilio: an unanswered request is a transient timeout', async () => {
    const mailgun = await FakeMailgun.start();
    const twilio = await FakeTwilio.start();
    try {
      mailgun.failNext(1, 'timeout');
      twilio.failNext(1, 'timeout');
      const email = new MailgunProvider({
        apiKey: mailgun.apiKey,
        domain: 'mg.example.com',
        url: mailgun.url,
        from: 'a@mg.example.com',
        timeoutMs: 200,
      });
      const sms = new TwilioProvider({
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: '+15005550001',
        apiUrl: twilio.url,
        statusCallbackUrl: 'https://herald.example.com/api/v1/webhooks/twilio',
        timeoutMs: 200,
      });
      await expect(email.send(emailJob())).rejects.toMatchObject({ code: 'provider_timeout' });
      await expect(sms.send(smsJob())).rejects.toMatchObject({ code: 'provider_timeout' });
    } finally {
      await Promise.all([mailgun.close(), twilio.close()]);
    }
  });
});

describe('the real clients read Retry-After from the provider', () => {
  it('mailgun.js: a 429 with Retry-After: 7 → a transient error asking for 7 s', async () => {
    const mailgun = await FakeMailgun.start();
    try {
      mailgun.failNext(1, { status: 429, message: 'slow down', retryAfterSeconds: 7 });
      mailgun.failNext(1, { status: 503, retryAfterSeconds: 4 });
      const email = new MailgunProvider({
        apiKey: mailgun.apiKey,
        domain: 'mg.example.com',
        url: mailgun.url,
        from: 'a@mg.example.com',
        timeoutMs: 2_000,
      });
      await expect(email.send(emailJob())).rejects.toMatchObject({
        code: 'provider_rate_limited',
        providerCode: '429',
        retryAfterMs: 7_000,
      });
      await expect(email.send(emailJob())).rejects.toMatchObject({
        code: 'provider_unavailable',
        retryAfterMs: 4_000,
      });
      // The answer's JSON body is still read: an accepted send still has its id.
      await expect(email.send(emailJob())).resolves.toEqual({
        providerMessageId: expect.stringMatching(/^<.+@mg\.example\.com>$/),
      });
    } finally {
      await mailgun.close();
    }
  });

  it('twilio: a 503 with Retry-After: 4 → a transient error asking for 4 s', async () => {
    const twilio = await FakeTwilio.start();
    try {
      twilio.failNext(1, { status: 503, code: 20503, retryAfterSeconds: 4 });
      const sms = new TwilioProvider({
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: '+15005550001',
        apiUrl: twilio.url,
        statusCallbackUrl: 'https://herald.example.com/api/v1/webhooks/twilio',
        timeoutMs: 2_000,
      });
      await expect(sms.send(smsJob())).rejects.toMatchObject({
        code: 'provider_unavailable',
        retryAfterMs: 4_000,
      });
    } finally {
      await twilio.close();
    }
  });
});

describe('provider selection', () => {
  const config = (env: Record<string, string>) => loadConfig('delivery-worker', DeliveryWorkerEnv, env);

  it('uses the log provider for a channel without credentials, loudly, outside production', () => {
    const warnings: string[] = [];
    const logger = testLogger();
    logger.warn = ((message: string) => warnings.push(message)) as never;
    const providers = createProviders(
      config({
        NODE_ENV: 'development',
        TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_FROM: '+15005550001',
      }),
      logger,
    );
    expect(providers.email[0]).toBeInstanceOf(LogProvider);
    expect(providers.sms[0]).toBeInstanceOf(TwilioProvider);
    expect(providers.push[0]).toBeInstanceOf(LogProvider);
    expect(warnings).toEqual([
      expect.stringContaining('EMAIL IS NOT SENT'),
      expect.stringContaining('PUSH IS NOT SENT'),
    ]);
  });

  it('records what the log provider would have sent', async () => {
    const logger = testLogger();
    const providers = createProviders(config({ NODE_ENV: 'development' }), logger);
    const job = smsJob();
    const result = await providers.sms[0]!.send(job);
    expect(result.providerMessageId).toMatch(/^log-/);
    expect((providers.sms[0] as LogProvider<never>).sent).toEqual([
      expect.objectContaining({
        notificationId: job.notificationId,
        to: job.recipient.phone,
        channel: 'sms',
      }),
    ]);
  });

  it('refuses the log provider in production', () => {
    expect(() =>
      createProviders(
        config({ NODE_ENV: 'production', MAILGUN_API_KEY: 'k', MAILGUN_DOMAIN: 'mg.example.com' }),
        testLogger(),
      ),
    ).toThrow(/TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set.*refused in production/);
  });

  it('refuses a send lease shorter than the provider timeout', () => {
    expect(() => settingsFrom(config({ PROVIDER_TIMEOUT_MS: '20000', SEND_LEASE_MS: '10000' }))).toThrow(
      /SEND_LEASE_MS/,
    );
    expect(settingsFrom(config({})).leaseMs).toBe(30_000);
  });

  it('waits for an unclear send to show at the provider as long as the lease leaves room, at most', () => {
    // the default: SEND_LEASE_MS − 2 × PROVIDER_TIMEOUT_MS (the wait, the lookup, the send in one lease)
    expect(settingsFrom(config({})).lookupDelayMs).toBe(20_000);
    expect(settingsFrom(config({ PROVIDER_TIMEOUT_MS: '8000', SEND_LEASE_MS: '30000' })).lookupDelayMs).toBe(
      14_000,
    );
    expect(settingsFrom(config({ PROVIDER_TIMEOUT_MS: '2000', SEND_LEASE_MS: '2500' })).lookupDelayMs).toBe(
      0,
    );
    expect(settingsFrom(config({ PROVIDER_LOOKUP_DELAY_MS: '5000' })).lookupDelayMs).toBe(5_000);
    expect(() => settingsFrom(config({ PROVIDER_LOOKUP_DELAY_MS: '20001' }))).toThrow(
      /PROVIDER_LOOKUP_DELAY_MS/,
    );
  });
});
