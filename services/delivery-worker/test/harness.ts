import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import webpush from 'web-push';
import amqplib from 'amqplib';
import { type Connection } from 'mongoose';
import {
  createDeliveryJobMessage,
  EventRoutingKeys,
  WebhookPaths,
  type DeliveryJobPayload,
  type DeliveryStatusMessage,
  type PushSubscriptionGoneMessage,
} from '@herald/contracts';
import { type RetryPolicy } from '@herald/amqp';
import {
  FakeMailgun,
  FakePushService,
  FakeSendGrid,
  FakeSmtp,
  FakeTwilio,
  type FakePushSubscription,
} from '@herald/fake-providers';
import { type HttpApp } from '@herald/runtime/http';
import {
  connectTestMongo,
  createTestAmqp,
  freePort,
  testAmqpUrl,
  testLogger,
  waitFor,
  type TestMongo,
} from '@herald/test-support';
import { buildApp } from '../src/app';
import { type WorkerSettings } from '../src/config';
import { deliveryModel, type Delivery } from '../src/deliveries/data/delivery-model';
import { ALL_DESTINATIONS } from '@herald/runtime/phone';
import { MailgunProvider } from '../src/providers/mailgun';
import { type Providers } from '../src/providers/provider';
import { SendGridProvider } from '../src/providers/sendgrid';
import { SmtpProvider } from '../src/providers/smtp';
import { TwilioProvider } from '../src/providers/twilio';
import { WebPushProvider, type WebPushSettings } from '../src/providers/push';
import { type Clock } from '../src/rate-limit/token-bucket';

export const MAILGUN_DOMAIN = 'mg.herald.test';
export const MAILGUN_FROM = 'Herald <noreply@mg.herald.test>';
export const TWILIO_FROM = '+15005550001';
export const PUBLIC_BASE_URL = 'https://herald.example.com';
export const SMTP_FROM = 'Herald <noreply@smtp.herald.test>';
export const SENDGRID_FROM = 'noreply@sendgrid.herald.test';
export const VAPID_SUBJECT = 'mailto:push@herald.test';

/** Fast enough to watch, slow enough to see the order; 3 attempts like the test default. */
export const WORKER_TEST_RETRY: RetryPolicy = { maxAttempts: 3, delaysMs: [200, 400], jitter: 0 };

export const testSettings = (overrides: Partial<WorkerSettings> = {}): WorkerSettings => ({
  prefetch: { email: 20, sms: 20, push: 20 },
  leaseMs: 6_000,
  // the suites that are not about a provider's lag look an unclear send up at once
  lookupDelayMs: 0,
  drainTimeoutMs: 3_000,
  rates: {
    email: { perSecond: 0, burst: 1 },
    sms: { perSecond: 0, burst: 1 },
    push: { perSecond: 0, burst: 1 },
  },
  smsAllowList: ALL_DESTINATIONS,
  // The suites of one provider's failures and retries count every call: its circuit never opens
  // there. The failover suites set their own thresholds.
  breakers: { failureThreshold: Number.MAX_SAFE_INTEGER, resetTimeoutMs: 30_000 },
  ...overrides,
});

export interface StartAppOptions {
  settings?: WorkerSettings;
  providers?: Providers;
  clock?: Clock;
  database?: Connection;
}

export type StatusEvent = DeliveryStatusMessage['payload'] & { correlationId: string };

/**
 * The one way the worker's tests start it: the real outside world of one
 * suite (a fresh database, a namespace on the broker, fake Mailgun, Twilio,
 * SendGrid and SMTP servers, a queue that collects every `delivery.status` event, a
 * reader for the DLQ) and any number of worker apps in it (`startApp`).
 */
export async function startHarness(name: string, retry: RetryPolicy = WORKER_TEST_RETRY) {
  const mongo: TestMongo = await connectTestMongo(name);
  const amqp = await createTestAmqp(name, retry);
  const mailgun = await FakeMailgun.start();
  const twilio = await FakeTwilio.start();
  const smtp = await FakeSmtp.start();
  const sendgrid = await FakeSendGrid.start();
  const push = await FakePushService.start();
  // this suite's application server keys: the fake push service checks every JWT against them
  const vapid = webpush.generateVAPIDKeys();
  push.expectedVapidPublicKey = vapid.publicKey;

  const inspector = await amqplib.connect(testAmqpUrl());
  const channel = await inspector.createChannel();
  const statusQueue = amqp.client.names.scoped('test.delivery-statuses');
  await channel.assertQueue(statusQueue, { durable: false });
  await channel.bindQueue(statusQueue, amqp.client.names.exchanges.events, EventRoutingKeys.deliveryStatus);
  await channel.bindQueue(
    statusQueue,
    amqp.client.names.exchanges.events,
    EventRoutingKeys.pushSubscriptionGone,
  );
  const statuses: StatusEvent[] = [];
  const goneSubscriptions: PushSubscriptionGoneMessage[] = [];
  await channel.consume(
    statusQueue,
    (message) => {
      if (!message) return;
      const parsed = JSON.parse(message.content.toString('utf8')) as
        DeliveryStatusMessage | PushSubscriptionGoneMessage;
      if (parsed.type === 'push.subscription_gone') {
        goneSubscriptions.push(parsed);
        return;
      }
      statuses.push({ ...parsed.payload, correlationId: parsed.correlationId });
    },
    { noAck: true },
  );

  const mailgunProvider = (timeoutMs = 5_000) =>
    new MailgunProvider({
      apiKey: mailgun.apiKey,
      domain: MAILGUN_DOMAIN,
      url: mailgun.url,
      from: MAILGUN_FROM,
      timeoutMs,
    });
  const twilioProvider = (timeoutMs = 5_000) =>
    new TwilioProvider({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: TWILIO_FROM,
      apiUrl: twilio.url,
      statusCallbackUrl: `${PUBLIC_BASE_URL}${WebhookPaths.twilio}`,
      timeoutMs,
    });
  const smtpProviders: SmtpProvider[] = [];
  const smtpProvider = (timeoutMs = 5_000) => {
    const provider = new SmtpProvider({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      user: smtp.user,
      pass: smtp.pass,
      from: SMTP_FROM,
      timeoutMs,
    });
    smtpProviders.push(provider);
    return provider;
  };
  const sendgridProvider = (timeoutMs = 5_000) =>
    new SendGridProvider({
      apiKey: sendgrid.apiKey,
      url: sendgrid.url,
      from: { email: SENDGRID_FROM },
      timeoutMs,
    });
  /** Web Push with this suite's VAPID keys, trusting the fake push service's certificate. */
  const pushAgent = new Agent({ ca: push.ca });
  const pushProvider = (
    timeoutMs = 5_000,
    // the fake push service listens on loopback
    targets: WebPushSettings['targets'] = { allowPrivate: true, allowedHosts: [] },
    resolveHost?: WebPushSettings['resolveHost'],
  ) =>
    new WebPushProvider({
      vapid: { subject: VAPID_SUBJECT, ...vapid },
      timeoutMs,
      ttlSeconds: 3_600,
      targets,
      ...(resolveHost ? { resolveHost } : {}),
      agent: pushAgent,
      logger: testLogger(),
    });
  /** One provider per channel, Mailgun, Twilio and Web Push, as the worker has by default. */
  const providers = (timeoutMs = 5_000): Providers => ({
    email: [mailgunProvider(timeoutMs)],
    sms: [twilioProvider(timeoutMs)],
    push: [pushProvider(timeoutMs)],
  });

  const apps: HttpApp[] = [];
  const deliveries = deliveryModel(mongo.connection);

  return {
    mongo,
    amqp: amqp.client,
    mailgun,
    twilio,
    statuses,
    /** every `push.subscription_gone` the worker published */
    goneSubscriptions,
    providers,
    smtp,
    sendgrid,
    mailgunProvider,
    twilioProvider,
    smtpProvider,
    sendgridProvider,
    push,
    vapid,
    pushProvider,

    /**
     * A worker app in this world, ready (consuming). `clock`: what its rate limiters wait on;
     * `database`: another database than the suite's (its connection stays the caller's).
     */
    async startApp(options: StartAppOptions = {}) {
      const app = await buildApp({
        logger: testLogger(),
        mongo: options.database ?? mongo.connection,
        amqp: amqp.client,
        providers: options.providers ?? providers(),
        settings: options.settings ?? testSettings(),
        clock: options.clock,
      });
      await app.ready();
      apps.push(app);
      return app;
    },

    async publishJobs(jobs: DeliveryJobPayload[]) {
      await Promise.all(
        jobs.map((job) =>
          amqp.client.publish(
            amqp.client.names.exchanges.work,
            job.channel,
            createDeliveryJobMessage(job, { correlationId: `req-${job.notificationId}` }),
          ),
        ),
      );
    },

    statusesOf(notificationId: string) {
      return statuses.filter((status) => status.notificationId === notificationId);
    },

    async waitForStatus(notificationId: string, status: string, timeoutMs = 5_000) {
      return waitFor(
        () => statuses.find((event) => event.notificationId === notificationId && event.status === status),
        { timeoutMs, description: `status ${status} of ${notificationId}` },
      );
    },

    /** Takes the next dead letter off the DLQ (waiting for one). */
    async nextDeadLetter(timeoutMs = 5_000) {
      return waitFor(
        async () => (await channel.get(amqp.client.names.queues.deadLetter, { noAck: true })) || undefined,
        { timeoutMs, description: 'a message in the DLQ' },
      );
    },

    async queueDepth(queue: string) {
      return (await channel.checkQueue(queue)).messageCount;
    },

    async delivery(notificationId: string, channelName: 'email' | 'sms' | 'push'): Promise<Delivery | null> {
      return deliveries.findOne({ notificationId, channel: channelName }).lean<Delivery>();
    },

    async close() {
      await Promise.all(apps.map((app) => app.close()));
      await channel.deleteQueue(statusQueue).catch(() => undefined);
      await inspector.close().catch(() => undefined);
      await amqp.cleanup([statusQueue]);
      for (const provider of smtpProviders) provider.close();
      pushAgent.destroy();
      await Promise.all([mailgun.close(), twilio.close(), smtp.close(), sendgrid.close(), push.close()]);
      await mongo.dropAndClose();
    },
  };
}

export type WorkerHarness = Awaited<ReturnType<typeof startHarness>>;

let sequence = 0;

export function emailJob(overrides: Partial<Extract<DeliveryJobPayload, { channel: 'email' }>> = {}) {
  sequence += 1;
  return {
    notificationId: `n-${randomUUID()}`,
    jobId: randomUUID(),
    channel: 'email' as const,
    recipient: { email: `user${sequence}@example.com`, name: 'Ada Lovelace' },
    content: {
      subject: 'Your report is ready',
      text: 'Hello Ada, your report is ready.',
      html: '<p>Hello Ada</p>',
    },
    metadata: {},
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

export function smsJob(overrides: Partial<Extract<DeliveryJobPayload, { channel: 'sms' }>> = {}) {
  sequence += 1;
  return {
    notificationId: `n-${randomUUID()}`,
    jobId: randomUUID(),
    channel: 'sms' as const,
    recipient: { phone: `+1500555${String(sequence % 10_000).padStart(4, '0')}` },
    content: { text: 'The long text version', sms: 'Your code is 123456' },
    metadata: {},
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A push job to these subscriptions (ids `s1`, `s2`, … unless given), for the inbox owner `userId`. */
export function pushJob(
  subscriptions: (FakePushSubscription & { id?: string })[],
  overrides: Partial<Extract<DeliveryJobPayload, { channel: 'push' }>> = {},
) {
  return {
    notificationId: `n-${randomUUID()}`,
    jobId: randomUUID(),
    channel: 'push' as const,
    recipient: {
      userId: '65f2b0c4e1a2b3c4d5e6f701',
      subscriptions: subscriptions.map((subscription, index) => ({
        id: subscription.id ?? `s${index + 1}`,
        endpoint: subscription.endpoint,
        keys: subscription.keys,
      })),
    },
    content: { subject: 'Your report is ready', text: 'Hello Ada, your report is ready.' },
    metadata: {},
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/**
 * The environment a worker child process of the crash tests starts with: this harness's
 * database, broker namespace and fake Mailgun, retries without jitter, no rate limit.
 * `overrides` name what a test tunes (prefetch, leases, timeouts, more providers).
 */
export async function workerProcessEnv(
  world: WorkerHarness,
  overrides: Record<string, string> = {},
): Promise<Record<string, string>> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    MONGO_URL: world.mongo.url,
    AMQP_URL: testAmqpUrl(),
    AMQP_NAMESPACE: world.amqp.names.namespace,
    RETRY_DELAYS_MS: '200,400',
    RETRY_JITTER: '0',
    EMAIL_RATE_PER_SECOND: '0',
    MAILGUN_API_KEY: world.mailgun.apiKey,
    MAILGUN_DOMAIN,
    MAILGUN_FROM,
    MAILGUN_URL: world.mailgun.url,
    ...overrides,
  };
}
