import { Headers } from '@herald/contracts';
import { field } from '@herald/fake-providers';
import { type HttpApp } from '@herald/runtime/http';
import { waitFor } from '@herald/test-support';
import {
  emailJob,
  MAILGUN_FROM,
  smsJob,
  startHarness,
  testSettings,
  TWILIO_FROM,
  type WorkerHarness,
} from './harness';
import { ManualClock } from './manual-clock';

describe('the delivery worker, with the real clients against the fake providers and the real broker', () => {
  let world: WorkerHarness;
  let app: HttpApp;

  beforeAll(async () => {
    world = await startHarness('delivery');
    app = await world.startApp();
  });
  afterAll(() => world.close());
  beforeEach(() => {
    world.mailgun.reset();
    world.twilio.reset();
  });

  it('is ready when MongoDB and the broker are', async () => {
    const response = await app.inject({ url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', checks: { mongo: 'up', broker: 'up' } });
  });

  it('counts outcomes and provider latency in /metrics', async () => {
    const sentCount = async () => {
      const text = (await app.inject({ url: '/metrics' })).body;
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('herald_delivery_outcomes_total{') &&
            l.includes('outcome="sent"') &&
            l.includes('channel="email"'),
        );
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = await sentCount();
    const job = emailJob();
    await world.publishJobs([job]);
    await world.waitForStatus(job.notificationId, 'sent');
    expect(await sentCount()).toBe(before + 1);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(
      /herald_provider_send_duration_seconds_count\{[^}]*channel="email"[^}]*\} [1-9]/,
    );
  });

  it('sends an email through Mailgun with exactly the expected fields', async () => {
    const job = emailJob({ category: 'reports', metadata: { tenant: 'acme' } });
    await world.publishJobs([job]);
    const sent = await world.waitForStatus(job.notificationId, 'sent');

    expect(world.mailgun.accepted).toHaveLength(1);
    const [request] = world.mailgun.accepted;
    expect(request!.path).toBe('/v3/mg.herald.test/messages');
    expect(request!.fields).toEqual({
      domain: ['mg.herald.test'],
      from: [MAILGUN_FROM],
      to: [`Ada Lovelace <${job.recipient.email}>`],
      subject: ['Your report is ready'],
      text: ['Hello Ada, your report is ready.'],
      html: ['<p>Hello Ada</p>'],
      'o:tag': ['reports'],
      'v:notification-id': [job.notificationId],
      'v:channel': ['email'],
      'v:job-id': [job.jobId],
      'v:tenant': ['acme'],
    });
    expect(sent).toMatchObject({
      channel: 'email',
      attempt: 1,
      provider: 'mailgun',
      providerMessageId: request!.messageId,
      correlationId: `req-${job.notificationId}`,
    });
    // a first attempt's first call reports no `sending`: queued, then its outcome
    expect(world.statusesOf(job.notificationId).map((status) => status.status)).toEqual(['sent']);
    expect(await world.delivery(job.notificationId, 'email')).toMatchObject({
      state: 'sent',
      attempts: 1,
      provider: 'mailgun',
      providerMessageId: request!.messageId,
    });
  });

  it('sends an SMS through Twilio with the short text and a status callback through the gateway', async () => {
    const job = smsJob();
    await world.publishJobs([job]);
    const sent = await world.waitForStatus(job.notificationId, 'sent');

    const [request] = world.twilio.accepted;
    expect(request!.path).toBe(`/2010-04-01/Accounts/${world.twilio.accountSid}/Messages.json`);
    expect(request!.fields).toEqual({
      To: [job.recipient.phone],
      From: [TWILIO_FROM],
      Body: ['Your code is 123456'],
      StatusCallback: ['https://herald.example.com/api/v1/webhooks/twilio'],
    });
    expect(sent.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sent.providerMessageId).toBe(request!.messageId);
  });

  it('retries two transient failures and sends once: 3 attempts, statuses in order', async () => {
    const job = emailJob();
    world.mailgun.failFor(job.recipient.email, 'server_error', 1);
    await world.publishJobs([job]);
    // the second failure: a dropped connection, which mailgun.js reports as a 400 — classified by its cause
    await waitFor(() => world.mailgun.requests.length === 1);
    world.mailgun.failFor(job.recipient.email, 'disconnect', 1);
    await world.waitForStatus(job.notificationId, 'sent');

    expect(world.mailgun.requests.map((request) => request.outcome)).toEqual([
      'rejected',
      'disconnected',
      'accepted',
    ]);
    const statuses = world.statusesOf(job.notificationId);
    expect(statuses.map((status) => [status.status, status.attempt])).toEqual([
      ['retrying', 1],
      ['sending', 2],
      ['retrying', 2],
      ['sending', 3],
      ['sent', 3],
    ]);
    expect(statuses[0]!.error).toEqual({
      code: 'provider_unavailable',
      message: 'Mailgun answered 503',
      permanent: false,
      providerCode: '503',
    });
    expect(statuses[2]!.error).toMatchObject({ code: 'provider_unreachable', permanent: false });
    // the test policy's first step, without jitter: the status says when the retry is due
    expect(Date.parse(statuses[0]!.nextAttemptAt!) - Date.parse(statuses[0]!.at)).toBe(200);
    expect(await world.delivery(job.notificationId, 'email')).toMatchObject({ state: 'sent', attempts: 3 });
  });

  it('fails a permanently rejected SMS at once: failed, in the DLQ with the reason, not retried', async () => {
    const job = smsJob();
    world.twilio.failFor(job.recipient.phone, { status: 400, code: 21211 });
    await world.publishJobs([job]);
    const failed = await world.waitForStatus(job.notificationId, 'failed');

    expect(failed.error).toEqual({
      code: 'invalid_number',
      message: "Twilio rejected the message: The 'To' number is not a valid phone number.",
      permanent: true,
      providerCode: '21211',
    });
    const deadLetter = await world.nextDeadLetter();
    expect(JSON.parse(deadLetter.content.toString()).payload.notificationId).toBe(job.notificationId);
    expect(deadLetter.properties.headers).toMatchObject({
      [Headers.deadLetterReason]: 'permanent_error',
      [Headers.errorCode]: 'invalid_number',
      [Headers.retryAttempts]: 0,
    });
    expect(world.twilio.requests).toHaveLength(1);
    expect(world.statusesOf(job.notificationId).map((status) => status.status)).toEqual(['failed']);
    expect(await world.delivery(job.notificationId, 'sms')).toMatchObject({
      state: 'failed',
      lastError: { code: 'invalid_number', providerCode: '21211' },
    });
  });

  it.each([
    [21610, 'unsubscribed'],
    [21614, 'not_mobile'],
  ])('treats Twilio %i as permanent (%s)', async (code, heraldCode) => {
    const job = smsJob();
    world.twilio.failFor(job.recipient.phone, { status: 400, code });
    await world.publishJobs([job]);
    const failed = await world.waitForStatus(job.notificationId, 'failed');
    expect(failed.error).toMatchObject({ code: heraldCode, providerCode: String(code), permanent: true });
    await world.nextDeadLetter();
    expect(world.twilio.requests).toHaveLength(1);
  });

  it('dead-letters a job whose retries are exhausted, reporting dead', async () => {
    const job = emailJob();
    world.mailgun.failFor(job.recipient.email, 'server_error');
    await world.publishJobs([job]);
    const dead = await world.waitForStatus(job.notificationId, 'dead');

    expect(dead).toMatchObject({ attempt: 3, error: { code: 'provider_unavailable', permanent: false } });
    expect(world.mailgun.requests).toHaveLength(3);
    expect(world.mailgun.accepted).toHaveLength(0);
    const deadLetter = await world.nextDeadLetter();
    expect(deadLetter.properties.headers).toMatchObject({
      [Headers.deadLetterReason]: 'retries_exhausted',
      [Headers.retryAttempts]: 2,
    });
    expect(world.statusesOf(job.notificationId).map((status) => status.status)).toEqual([
      'retrying',
      'sending',
      'retrying',
      'sending',
      'dead',
    ]);
    expect(await world.delivery(job.notificationId, 'email')).toMatchObject({ state: 'dead', attempts: 3 });
  });

  it('acks a redelivered job whose send already succeeded without sending again', async () => {
    const job = emailJob();
    await world.publishJobs([job]);
    await world.waitForStatus(job.notificationId, 'sent');
    // the same job again, as after a crash between the send and the ack, or a republish by the outbox relay
    await world.publishJobs([job]);
    await waitFor(() => world.statusesOf(job.notificationId).filter((s) => s.status === 'sent').length === 2);

    expect(world.mailgun.accepted).toHaveLength(1);
    const sentEvents = world.statusesOf(job.notificationId).filter((status) => status.status === 'sent');
    expect(sentEvents[1]!.providerMessageId).toBe(sentEvents[0]!.providerMessageId);
    expect(await world.delivery(job.notificationId, 'email')).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('sends a job delivered twice at the same moment only once', async () => {
    const job = emailJob();
    world.mailgun.latencyMs = 150;
    try {
      await world.publishJobs([job, job]);
      await waitFor(
        () => world.statusesOf(job.notificationId).filter((s) => s.status === 'sent').length === 2,
      );
    } finally {
      world.mailgun.latencyMs = 0;
    }
    expect(world.mailgun.accepted).toHaveLength(1);
    expect(world.mailgun.requests).toHaveLength(1);
  });

  it('honours a 429 Retry-After from Twilio: the longest retry step, and the bucket holds the send', async () => {
    // A worker whose rate limiters wait on a clock the test moves: the only one consuming.
    const clock = new ManualClock(Date.now());
    await app.close();
    const clocked = await world.startApp({ clock });
    try {
      const job = smsJob();
      world.twilio.failFor(job.recipient.phone, { status: 429, code: 20429, retryAfterSeconds: 1 }, 1);
      await world.publishJobs([job]);
      const retrying = await world.waitForStatus(job.notificationId, 'retrying');
      expect(retrying.error).toMatchObject({ code: 'provider_rate_limited', providerCode: '20429' });
      // the test policy's longest delay queue is 400 ms; Retry-After asks for 1 s,
      // so the retry takes the longest step and the token bucket holds the send for the rest
      expect(Date.parse(retrying.nextAttemptAt!) - Date.parse(retrying.at)).toBe(400);

      await waitFor(() => clock.sleeping === 1, { description: 'the retried send held by the bucket' });
      clock.advance(999);
      expect(clock.sleeping).toBe(1);
      expect(world.twilio.requests).toHaveLength(1);
      clock.advance(1);
      await world.waitForStatus(job.notificationId, 'sent');
      expect(world.twilio.requests).toHaveLength(2);
    } finally {
      await clocked.close();
      app = await world.startApp();
    }
  });

  it('dead-letters a malformed job unseen (a poison message never reaches a provider)', async () => {
    const job = emailJob();
    await world.amqp.publish(world.amqp.names.exchanges.work, 'email', {
      messageId: job.jobId,
      correlationId: 'req-poison',
      type: 'delivery.job',
      version: 1,
      occurredAt: new Date().toISOString(),
      payload: { ...job, recipient: { name: 'No Address' } },
    } as never);
    const deadLetter = await world.nextDeadLetter();
    expect(deadLetter.properties.headers).toMatchObject({ [Headers.deadLetterReason]: 'invalid_message' });
    expect(world.mailgun.requests).toHaveLength(0);
  });

  it('finishes an in-flight send on shutdown before closing', async () => {
    const second = await world.startApp();
    const job = emailJob();
    world.mailgun.latencyMs = 400;
    try {
      await app.close();
      await world.publishJobs([job]);
      await waitFor(() => world.mailgun.held.length === 1, { description: 'the send in flight' });
      await second.close();
    } finally {
      world.mailgun.latencyMs = 0;
      app = await world.startApp();
    }
    expect(world.mailgun.accepted).toHaveLength(1);
    expect(await world.delivery(job.notificationId, 'email')).toMatchObject({ state: 'sent' });
    expect(await world.queueDepth(world.amqp.names.queues.work.email)).toBe(0);
    expect(field(world.mailgun.accepted[0]!, 'v:notification-id')).toBe(job.notificationId);
  });

  it('requeues a send still in flight past the drain bound, and the requeued job does not send again', async () => {
    const impatient = await world.startApp({ settings: testSettings({ drainTimeoutMs: 100 }) });
    const job = emailJob();
    world.mailgun.latencyMs = 800;
    try {
      await app.close();
      await world.publishJobs([job]);
      await waitFor(() => world.mailgun.held.length === 1, { description: 'the send in flight' });
      await impatient.close();
      // the job is back on the queue while its send is still running: the next worker waits on the lease
      app = await world.startApp();
      await waitFor(
        () => world.statusesOf(job.notificationId).filter((s) => s.status === 'sent').length === 2,
        {
          description: 'sent reported by the first send and again by the requeued job',
        },
      );
    } finally {
      world.mailgun.latencyMs = 0;
    }
    expect(world.mailgun.requests).toHaveLength(1);
    expect(world.mailgun.accepted).toHaveLength(1);
    expect(await world.delivery(job.notificationId, 'email')).toMatchObject({ state: 'sent', attempts: 1 });
    await waitFor(async () => (await world.queueDepth(world.amqp.names.queues.work.email)) === 0);
  });
});
