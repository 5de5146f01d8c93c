import { type HttpApp } from '@herald/runtime/http';
import { deliveryModel } from '../src/deliveries/data/delivery-model';
import { emailJob, smsJob, startHarness, testSettings, type WorkerHarness } from './harness';
import { ManualClock } from './manual-clock';

const THRESHOLD = 3;
const RESET_MS = 60_000;

describe('email failover: Mailgun down, SMTP takes over, Mailgun back after its circuit half-opens', () => {
  let world: WorkerHarness;
  let app: HttpApp;
  const clock = new ManualClock(0);

  beforeAll(async () => {
    world = await startHarness('delivery-failover');
    app = await world.startApp({
      // one send at a time, so the count of calls Mailgun sees before its circuit opens is exact
      settings: testSettings({
        prefetch: { email: 1, sms: 1, push: 1 },
        breakers: { failureThreshold: THRESHOLD, resetTimeoutMs: RESET_MS },
      }),
      providers: {
        email: [world.mailgunProvider(), world.smtpProvider()],
        sms: [world.twilioProvider()],
        push: [world.pushProvider()],
      },
      clock,
    });
  });
  afterAll(() => world.close());

  const circuit = async (provider: string) => {
    const text = (await app.inject({ url: '/metrics' })).body;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('herald_provider_circuit_state{') &&
          l.includes('channel="email"') &&
          l.includes(`provider="${provider}"`),
      );
    return Number(line?.split(' ').pop());
  };
  const notificationIdsAtSmtp = () =>
    world.smtp.accepted.map((mail) => mail.headers['x-herald-notification-id']);
  const notificationIdsAtMailgun = () =>
    world.mailgun.accepted.map((request) => request.fields['v:notification-id']![0]);
  const sendAll = async (jobs: ReturnType<typeof emailJob>[]) => {
    await world.publishJobs(jobs);
    await Promise.all(jobs.map((job) => world.waitForStatus(job.notificationId, 'sent', 20_000)));
  };

  it('moves every send to SMTP once Mailgun fails THRESHOLD times, and sends each exactly once', async () => {
    world.mailgun.failNext(Number.MAX_SAFE_INTEGER, 'server_error');
    const jobs = Array.from({ length: 20 }, () => emailJob());
    await sendAll(jobs);

    // Mailgun was called THRESHOLD times (each a 503), then skipped: its circuit is open
    expect(world.mailgun.requests).toHaveLength(THRESHOLD);
    expect(world.mailgun.accepted).toHaveLength(0);
    expect(await circuit('mailgun')).toBe(2);
    expect(await circuit('smtp')).toBe(0);
    // every notification reached the fakes exactly once, all through SMTP
    expect(notificationIdsAtSmtp().sort()).toEqual(jobs.map((job) => job.notificationId).sort());

    // the first send's history names each provider it tried, and why it moved on
    const first = world.statusesOf(jobs[0]!.notificationId);
    expect(first.map((status) => [status.status, status.provider])).toEqual([
      ['sending', 'smtp'],
      ['sent', 'smtp'],
    ]);
    expect(first[0]!.error).toMatchObject({ code: 'provider_unavailable', providerCode: '503' });
    // a later one never tried Mailgun; nothing waited for a retry
    expect(
      world.statusesOf(jobs[19]!.notificationId).map((status) => [status.status, status.provider]),
    ).toEqual([['sent', 'smtp']]);
    expect(world.statuses.filter((status) => status.status === 'retrying')).toHaveLength(0);
    const record = await world.delivery(jobs[0]!.notificationId, 'email');
    expect(record).toMatchObject({ state: 'sent', provider: 'smtp', attempts: 1 });
    expect(record!.unclear).toBeUndefined();
  });

  it('half-opens after the reset timeout: a failed trial opens it again, SMTP still sends', async () => {
    clock.advance(RESET_MS);
    expect(await circuit('mailgun')).toBe(1);
    const job = emailJob();
    await sendAll([job]);
    expect(world.mailgun.requests).toHaveLength(THRESHOLD + 1); // the one trial
    expect(await circuit('mailgun')).toBe(2);
    expect(notificationIdsAtSmtp()).toContain(job.notificationId);
  });

  it('gives Mailgun the sends again once its trial succeeds', async () => {
    world.mailgun.clearFailures();
    clock.advance(RESET_MS);
    const smtpBefore = world.smtp.accepted.length;
    const jobs = Array.from({ length: 10 }, () => emailJob());
    await sendAll(jobs);
    expect(await circuit('mailgun')).toBe(0);
    expect(notificationIdsAtMailgun().sort()).toEqual(jobs.map((job) => job.notificationId).sort());
    expect(world.smtp.accepted).toHaveLength(smtpBefore);
    for (const job of jobs) {
      expect(world.statusesOf(job.notificationId).map((status) => status.provider)).toEqual(['mailgun']);
    }
  });

  it('does not move a send whose outcome is unclear (a timeout): it asks Mailgun first on the retry', async () => {
    world.mailgun.reset();
    world.smtp.reset();
    const unclearApp = await world.startApp({
      settings: testSettings({ prefetch: { email: 1, sms: 1, push: 1 } }),
      providers: {
        email: [world.mailgunProvider(300), world.smtpProvider()],
        sms: [world.twilioProvider()],
        push: [world.pushProvider()],
      },
    });
    await app.close(); // only the app with the short timeout consumes now
    world.mailgun.failNext(1, 'timeout');
    const job = emailJob();
    await sendAll([job]);
    expect(world.smtp.accepted).toHaveLength(0);
    expect(notificationIdsAtMailgun()).toEqual([job.notificationId]);
    const history = world.statusesOf(job.notificationId);
    expect(history.map((status) => status.status)).toEqual(['retrying', 'sending', 'sent']);
    expect(history[0]!.error).toMatchObject({ code: 'provider_timeout' });
    await unclearApp.close();
  });
});

describe('a send left unclear by a dead worker: the provider is asked before any resend', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('delivery-reconcile');
    await world.startApp({
      providers: {
        email: [world.mailgunProvider(), world.sendgridProvider(), world.smtpProvider()],
        sms: [world.twilioProvider()],
        push: [world.pushProvider()],
      },
    });
  });
  afterAll(() => world.close());

  /** What a worker killed right after the provider took the message leaves: a lapsed lease naming it. */
  async function abandonedRecord(
    job: { notificationId: string; jobId: string; channel: 'email' | 'sms' },
    provider: string,
  ) {
    const startedAt = new Date(Date.now() - 60_000);
    await deliveryModel(world.mongo.connection).collection.insertOne({
      notificationId: job.notificationId,
      channel: job.channel,
      jobId: job.jobId,
      state: 'sending',
      attempts: 1,
      leaseUntil: new Date(Date.now() - 1_000),
      provider,
      unclear: { [provider]: startedAt },
      createdAt: startedAt,
      updatedAt: startedAt,
    });
  }

  it.each(['mailgun', 'sendgrid'] as const)(
    'finds the email %s took and does not send it again',
    async (name) => {
      const job = emailJob();
      const provider = name === 'mailgun' ? world.mailgunProvider() : world.sendgridProvider();
      const fake = name === 'mailgun' ? world.mailgun : world.sendgrid;
      const { providerMessageId } = await provider.send(job);
      await abandonedRecord(job, name);

      await world.publishJobs([job]); // the redelivery
      const sent = await world.waitForStatus(job.notificationId, 'sent');
      expect(sent).toMatchObject({ provider: name, providerMessageId });
      expect(fake.accepted.filter((request) => request.messageId === providerMessageId)).toHaveLength(1);
      expect(fake.requests.filter((request) => request.recipient === job.recipient.email)).toHaveLength(1);
      expect(world.statusesOf(job.notificationId).map((status) => status.status)).toEqual(['sent']);
      expect(await world.delivery(job.notificationId, 'email')).toMatchObject({
        state: 'sent',
        provider: name,
        providerMessageId,
      });
    },
  );

  it('finds the SMS Twilio took and does not send it again', async () => {
    const job = smsJob();
    const { providerMessageId } = await world.twilioProvider().send(job);
    await abandonedRecord(job, 'twilio');
    await world.publishJobs([job]);
    expect(await world.waitForStatus(job.notificationId, 'sent')).toMatchObject({
      provider: 'twilio',
      providerMessageId,
    });
    expect(world.twilio.requests.filter((request) => request.recipient === job.recipient.phone)).toHaveLength(
      1,
    );
  });

  it('sends what the provider never took, once', async () => {
    const job = emailJob();
    await abandonedRecord(job, 'mailgun'); // the worker died before Mailgun had it
    await world.publishJobs([job]);
    await world.waitForStatus(job.notificationId, 'sent');
    expect(
      world.mailgun.accepted.filter((request) => request.recipient === job.recipient.email),
    ).toHaveLength(1);
  });

  it('sends an SMTP send again, since SMTP cannot be asked (documented: may arrive twice)', async () => {
    const job = emailJob();
    await world.smtpProvider().send(job);
    await abandonedRecord(job, 'smtp');
    await world.publishJobs([job]);
    expect(await world.waitForStatus(job.notificationId, 'sent')).toMatchObject({ provider: 'mailgun' });
    expect(world.smtp.accepted.filter((mail) => mail.to.includes(job.recipient.email))).toHaveLength(1);
    expect(
      world.mailgun.accepted.filter((request) => request.recipient === job.recipient.email),
    ).toHaveLength(1);
  });

  it('sends nothing while the provider cannot be asked, and retries', async () => {
    const job = emailJob();
    await abandonedRecord(job, 'sendgrid');
    world.sendgrid.failLookups = 1;
    await world.publishJobs([job]);
    const retrying = await world.waitForStatus(job.notificationId, 'retrying');
    expect(retrying.error).toMatchObject({ code: 'reconciliation_failed' });
    await world.waitForStatus(job.notificationId, 'sent');
    expect(
      world.mailgun.accepted.filter((request) => request.recipient === job.recipient.email),
    ).toHaveLength(1);
    expect(
      world.sendgrid.accepted.filter((request) => request.recipient === job.recipient.email),
    ).toHaveLength(0);
  });
});
