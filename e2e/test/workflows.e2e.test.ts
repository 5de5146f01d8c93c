import { connectTestMongo, testLogger, waitFor, type TestMongo } from '@herald/test-support';
import { startHarness, type Harness, type Json } from '../../services/notification/test/harness';
import { buildApp, type WorkflowsApp } from '../../services/workflows/src/app';

/*
 * Escalation through both services on one broker, each on its own
 * database, one clock the test moves: the workflows service's runs, the
 * notification service's notifications and delivery jobs. Nothing between
 * them but contracts: workflow.send, workflow.step.refused, notification.*, template.changed,
 * apikey.upserted.
 */
describe('workflows and notifications together', () => {
  let h: Harness;
  let wfMongo: TestMongo;
  let wf: WorkflowsApp;
  let clock = Date.parse('2026-05-04T08:00:00.000Z');
  const now = () => new Date(clock);
  let key: string;

  beforeAll(async () => {
    h = await startHarness('e2e-wf-notification', { now });
    wfMongo = await connectTestMongo('e2e-wf-workflows');
    wf = await buildApp({
      logger: testLogger(),
      mongo: wfMongo.connection,
      amqp: h.broker.client,
      verifier: h.verifier,
      settings: { pollIntervalMs: 60_000, leaseMs: 5_000 },
      now,
    });
    await wf.ready();
    const admin = h.token('root', 'admin');
    const template = await h.request('POST', '/api/v1/templates', {
      token: admin,
      body: {
        key: 'invoice-due',
        channels: ['in_app', 'email'],
        defaultLocale: 'en',
        locales: {
          en: {
            subject: 'Invoice {{invoice}} is due',
            text: 'Please pay invoice {{invoice}}.',
            inApp: { title: 'Invoice {{invoice}} is due', body: 'Please pay it.' },
          },
        },
      },
    });
    expect(template.statusCode).toBe(201);
    // the notification service announces it; the workflows service's read model takes it
    await h.app.relay.runOnce();
    await waitFor(() => wf.context.models.templates.exists({ _id: 'invoice-due', deleted: false }), {
      description: 'the template in the workflows read model',
    });
    const created = await h.createApiKey(['notifications:send']);
    key = created.key;
    await waitFor(() => wf.context.models.apiKeys.exists({ _id: created.snapshot.keyId }));
    const defined = await wf.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${admin}` },
      payload: {
        key: 'invoice-reminder',
        steps: [
          { id: 'inbox', type: 'channel', channel: 'in_app', template: 'invoice-due' },
          { id: 'wait', type: 'delay', duration: '30m' },
          { id: 'unread', type: 'branch', if: { event: 'read', step: 'inbox' }, then: 'end' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'invoice-due' },
        ],
      },
    });
    expect(defined.statusCode).toBe(201);
    const later = await wf.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${admin}` },
      payload: {
        key: 'invoice-later',
        steps: [
          { id: 'wait', type: 'delay', duration: '30m' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'invoice-due' },
        ],
      },
    });
    expect(later.statusCode).toBe(201);
  });
  afterAll(async () => {
    await wf?.close();
    await wfMongo?.dropAndClose();
    await h?.close();
  });

  async function trigger(userId: string, invoice: string): Promise<string> {
    const response = await wf.inject({
      method: 'POST',
      url: '/api/v1/workflows/invoice-reminder/trigger',
      headers: { authorization: `Bearer ${key}` },
      payload: { recipients: [{ userId }], data: { invoice } },
    });
    expect(response.statusCode).toBe(202);
    return response.json().runs[0].id as string;
  }

  const runOf = (id: string) => wf.context.models.runs.findById(id).lean();

  /** The in-app notification of a run's first step, once the notification service stored it and said so. */
  async function inboxNotification(runId: string): Promise<string> {
    await wf.context.background.drain(15_000);
    return waitFor(
      async () => {
        const run = await runOf(runId);
        const id = run?.sends[0]?.notificationId;
        const delivered = run?.engagement.some(
          (one) => one.notificationId === id && one.kind === 'delivered',
        );
        return id && delivered && (await h.stored(id)) ? id : undefined;
      },
      { description: 'the in-app notification stored and announced' },
    );
  }

  const emailJobs: Json[] = [];
  async function emailsTo(address: string): Promise<Json[]> {
    emailJobs.push(...(await h.drain(h.names.queues.work.email)));
    return emailJobs.filter((job) => job.payload.recipient.email === address);
  }

  it('read at 10 minutes: no email at 30; unread: exactly one email at 30 minutes', async () => {
    const reader = await h.registerUser();
    const ignorer = await h.registerUser();
    const readerRun = await trigger(reader.userId, 'F-1');
    const ignorerRun = await trigger(ignorer.userId, 'F-2');
    const readerInbox = await inboxNotification(readerRun);
    await inboxNotification(ignorerRun);
    expect((await h.stored(readerInbox)).rendered.inApp.title).toBe('Invoice F-1 is due');

    clock += 10 * 60_000;
    const read = await h.request('PATCH', `/api/v1/notifications/${readerInbox}`, {
      token: h.token(reader.userId),
      body: { read: true },
    });
    expect(read.statusCode).toBe(200);
    await waitFor(async () => (await runOf(readerRun))?.engagement.some((one) => one.kind === 'read'), {
      description: 'the read reaching the run',
    });

    clock += 20 * 60_000 - 1;
    await wf.poller.runOnce();
    clock += 1;
    await wf.poller.runOnce();
    await waitFor(async () => (await runOf(ignorerRun))?.status === 'completed');
    expect((await runOf(readerRun))?.status).toBe('completed');

    const sent = await waitFor(async () => {
      const jobs = await emailsTo(ignorer.email);
      return jobs.length > 0 ? jobs : undefined;
    });
    // later passes and the relay change nothing
    clock += 60 * 60_000;
    await wf.poller.runOnce();
    await h.app.relay.runOnce();
    await waitFor(async () => (await h.messageCount(h.names.queues.notificationEvents)) === 0);
    expect(await emailsTo(ignorer.email)).toHaveLength(1);
    expect(sent[0].payload.content.subject).toBe('Invoice F-2 is due');
    expect(await emailsTo(reader.email)).toEqual([]);
  });

  it('a step the notification service refuses (the key revoked during the delay) ends the run failed, nothing sent', async () => {
    const user = await h.registerUser();
    const revocable = await h.createApiKey(['notifications:send']);
    await waitFor(() => wf.context.models.apiKeys.exists({ _id: revocable.snapshot.keyId }));
    const started = await wf.inject({
      method: 'POST',
      url: '/api/v1/workflows/invoice-later/trigger',
      headers: { authorization: `Bearer ${revocable.key}` },
      payload: { recipients: [{ userId: user.userId }], data: { invoice: 'F-9' } },
    });
    expect(started.statusCode).toBe(202);
    const runId = started.json().runs[0].id as string;
    await wf.context.background.drain(15_000);
    // auth revokes the key while the run waits
    await h.publishApiKey({ ...revocable.snapshot, revokedAt: now().toISOString(), revision: 2 });

    clock += 30 * 60_000;
    await wf.poller.runOnce();
    const failed = await waitFor(
      async () => {
        const run = await runOf(runId);
        return run?.status === 'failed' ? run : undefined;
      },
      { description: 'the refusal reaching the run' },
    );
    expect(failed.history.at(-1)).toMatchObject({
      stepId: 'mail',
      outcome: 'refused',
      detail: expect.stringContaining('sender_key_invalid'),
    });
    expect(await h.stored(failed.sends[0]!.notificationId)).toBeNull();
    expect(await emailsTo(user.email)).toEqual([]);
  });
});
