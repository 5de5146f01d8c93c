import { type WorkflowSendMessage } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Runs against the real broker and database, on a clock the test moves
 * (issue 18's "must show"). The notification service's part is played over
 * the broker as it would: `workflow.send` is what it receives (it turns
 * each into one notification, sent once: services/notification/test/
 * workflow-sends.test.ts), `notification.updated` is what it tells.
 */
describe('workflow runs', () => {
  let h: Harness;
  let clock = Date.parse('2026-03-02T09:00:00.000Z');
  const now = () => new Date(clock);
  const minutes = (n: number) => n * 60_000;
  let key: string;
  let sends: string;

  beforeAll(async () => {
    h = await startHarness('wf-runs', { now });
    await h.announceTemplate('nudge', ['in_app', 'email']);
    await h.announceTemplate('digest-mail', ['email']);
    key = (await h.createApiKey(['notifications:send'])).key;
    sends = await h.tapSends();
    const admin = h.token('root', 'admin');
    const define = async (body: Json) => {
      const response = await h.request('POST', '/api/v1/workflows', { token: admin, body });
      expect(response.statusCode).toBe(201);
    };
    await define({
      key: 'escalation',
      steps: [
        { id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' },
        { id: 'wait', type: 'delay', duration: '30m' },
        { id: 'unread', type: 'branch', if: { event: 'read', step: 'inbox' }, then: 'end' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
      ],
    });
    await define({
      key: 'comments',
      steps: [
        { id: 'gather', type: 'digest', window: '1h', key: 'postId' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'digest-mail' },
      ],
    });
    await define({
      key: 'alerts',
      steps: [
        { id: 'limit', type: 'throttle', limit: 3, window: '1h' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
      ],
    });
    await define({
      key: 'reminder',
      steps: [
        { id: 'wait', type: 'delay', duration: '2h' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
      ],
    });
    await define({
      key: 'escalation-cancel-on',
      steps: [
        { id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' },
        { id: 'stop-when-read', type: 'cancel-on', event: 'read', step: 'inbox' },
        { id: 'wait', type: 'delay', duration: '30m' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
      ],
    });
  });
  afterAll(() => h.close());

  async function trigger(workflow: string, body: Json, token = key) {
    const response = await h.request('POST', `/api/v1/workflows/${workflow}/trigger`, { token, body });
    expect(response.statusCode).toBe(202);
    return response.json().runs as Json[];
  }

  /** What the notification service received since the last call, for one run (or all). */
  async function sent(runId?: string): Promise<WorkflowSendMessage['payload'][]> {
    const messages = await h.drain(sends);
    return messages.map((message) => message.payload).filter((payload) => !runId || payload.runId === runId);
  }

  it('escalates: in-app now; read at 10 min → no email at 30 min', async () => {
    const [run] = await trigger('escalation', { recipients: [{ userId: 'ada' }], data: { invoice: 'F-1' } });
    await h.advance();
    const first = await sent(run.id);
    expect(first.map((send) => [send.stepId, send.channel])).toEqual([['inbox', 'in_app']]);
    expect(first[0]).toMatchObject({
      recipient: { userId: 'ada' },
      template: { key: 'nudge', data: { invoice: 'F-1' } },
    });

    clock += minutes(10);
    await h.notificationRead(first[0]!.notificationId, 'ada', now());
    clock += minutes(20) - 1;
    await h.advance();
    expect((await h.run(run.id)).status).toBe('active');
    clock += 1;
    await h.advance();
    await h.advance();
    expect(await sent(run.id)).toEqual([]);
    const detail = await h.run(run.id);
    expect(detail.status).toBe('completed');
    expect(detail.steps.map((step: Json) => [step.stepId, step.outcome])).toEqual([
      ['inbox', 'sent'],
      ['wait', 'waiting'],
      ['wait', 'resumed'],
      ['unread', 'then'],
    ]);
    expect(detail.engagement).toEqual([expect.objectContaining({ kind: 'read' })]);
  });

  it('escalates: unread → exactly one email at 30 min, not before', async () => {
    const [run] = await trigger('escalation', { recipients: [{ subscriberId: 'bob' }] });
    await h.advance();
    const [inbox] = await sent(run.id);
    expect(inbox!.channel).toBe('in_app');

    clock += minutes(30) - 1;
    await h.advance();
    expect(await sent(run.id)).toEqual([]);
    clock += 1;
    await h.advance();
    // more passes, later: nothing more
    clock += minutes(60);
    await h.advance();
    await h.advance();
    const emails = await sent(run.id);
    expect(emails.map((send) => [send.stepId, send.channel, send.recipient])).toEqual([
      ['mail', 'email', { subscriberId: 'bob' }],
    ]);
    expect(emails[0]!.notificationId).not.toBe(inbox!.notificationId);
    const detail = await h.run(run.id);
    expect(detail.status).toBe('completed');
    expect(detail.notifications.map((one: Json) => one.stepId)).toEqual(['inbox', 'mail']);
  });

  it('cancel-on: reading the in-app notification cancels the run; no email', async () => {
    const [run] = await trigger('escalation-cancel-on', { recipients: [{ userId: 'cy' }] });
    await h.advance();
    const [inbox] = await sent(run.id);
    clock += minutes(10);
    await h.notificationRead(inbox!.notificationId, 'cy', now());
    // the consumer records the read, then cancels in a second write
    await waitFor(() => h.models.runs.exists({ _id: run.id, status: 'cancelled' }), {
      description: 'the run cancelled by its cancel-on',
    });
    expect((await h.run(run.id)).status).toBe('cancelled');
    clock += minutes(30);
    await h.advance();
    expect(await sent(run.id)).toEqual([]);
  });

  it('digests 40 triggers with one key in a 1-hour window into one email carrying the 40 events in order', async () => {
    const runs: string[] = [];
    for (let index = 0; index < 40; index += 1) {
      const [run] = await trigger('comments', {
        recipients: [{ userId: 'dora' }],
        data: { postId: 'p-1', comment: `comment ${index}` },
      });
      runs.push(run.id);
      // each reaches the digest before the next arrives, as one a minute would: the first opens the
      // bucket (the trigger advances its new runs in the background, and two in flight could race)
      await h.advance();
      clock += 60_000; // one a minute: 40 within the hour
    }
    // a trigger with another key is digested apart
    const [other] = await trigger('comments', { recipients: [{ userId: 'dora' }], data: { postId: 'p-2' } });
    await h.advance();
    expect(await sent()).toEqual([]);

    clock = Date.parse((await h.run(runs[0]!)).waiting.until);
    await h.advance();
    await h.advance();
    const emails = (await sent()).filter((send) => send.runId !== other.id);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ runId: runs[0], channel: 'email', template: { key: 'digest-mail' } });
    const data = emails[0]!.template.data as { events: Json[]; eventCount: number };
    expect(data.eventCount).toBe(40);
    expect(data.events.map((event) => event.comment)).toEqual(
      Array.from({ length: 40 }, (_, index) => `comment ${index}`),
    );
    const statuses = await Promise.all(runs.map(async (id) => (await h.run(id)).status));
    expect(statuses).toEqual(['completed', ...Array(39).fill('digested')]);
    expect((await h.run(runs[5]!)).digestedInto).toBe(runs[0]);
  });

  it('throttles 10 triggers at 3 per hour: 3 sent, 7 recorded as throttled', async () => {
    const runs: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const [run] = await trigger('alerts', { recipients: [{ userId: 'eve' }], data: { n: index } });
      runs.push(run.id);
      clock += 1_000;
      await h.advance();
    }
    const emails = await sent();
    expect(emails.map((send) => (send.template.data as { n: number }).n)).toEqual([0, 1, 2]);
    const statuses = await Promise.all(runs.map(async (id) => (await h.run(id)).status));
    expect(statuses).toEqual([...Array(3).fill('completed'), ...Array(7).fill('throttled')]);
    const throttled = await h.request(
      'GET',
      '/api/v1/workflow-runs?workflow=alerts&status=throttled&limit=100',
      {
        token: key,
      },
    );
    expect(throttled.json().items).toHaveLength(7);

    // the next hour's window lets three more through
    clock += minutes(61);
    await trigger('alerts', { recipients: [{ userId: 'eve' }], data: { n: 10 } });
    await h.advance();
    expect((await sent()).map((send) => (send.template.data as { n: number }).n)).toEqual([10]);
  });

  it('cancels by transactionId during a delay: nothing is sent, and the same id starts no second run', async () => {
    const body = { recipients: [{ userId: 'fay' }, { userId: 'gus' }], transactionId: 'order-9' };
    const runs = await trigger('reminder', body);
    const again = await trigger('reminder', body);
    expect(again.map((run) => run.id)).toEqual(runs.map((run) => run.id));
    await h.advance();
    clock += minutes(60);
    await h.advance();

    const otherKey = (await h.createApiKey(['notifications:send'])).key;
    const foreign = await h.request('POST', '/api/v1/workflows/cancel', {
      token: otherKey,
      body: { transactionId: 'order-9' },
    });
    expect(foreign.json().cancelled).toEqual([]);
    const cancelled = await h.request('POST', '/api/v1/workflows/cancel', {
      token: key,
      body: { transactionId: 'order-9' },
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().cancelled.sort()).toEqual(runs.map((run) => run.id).sort());

    clock += minutes(120);
    await h.advance();
    expect(await sent()).toEqual([]);
    expect((await h.run(runs[0].id)).status).toBe('cancelled');
    // a later trigger with the same transaction id still starts nothing new
    const later = await trigger('reminder', body);
    expect(later.map((run) => run.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('shows runs to whoever triggered them and admins; cancels one; refuses others', async () => {
    const [run] = await trigger('reminder', { recipients: [{ userId: 'hal' }] });
    await h.advance();
    const otherKey = (await h.createApiKey(['notifications:send'])).key;
    expect((await h.request('GET', `/api/v1/workflow-runs/${run.id}`, { token: otherKey })).statusCode).toBe(
      404,
    );
    expect((await h.request('GET', `/api/v1/workflow-runs/${run.id}`)).statusCode).toBe(401);
    expect(
      (await h.request('GET', `/api/v1/workflow-runs/${run.id}`, { token: h.token('hal') })).statusCode,
    ).toBe(403);
    const mine = await h.request('GET', '/api/v1/workflow-runs?recipient=hal', { token: key });
    expect(mine.json().items.map((item: Json) => item.id)).toEqual([run.id]);

    expect(
      (await h.request('POST', `/api/v1/workflow-runs/${run.id}/cancel`, { token: otherKey })).statusCode,
    ).toBe(404);
    const cancelled = await h.request('POST', `/api/v1/workflow-runs/${run.id}/cancel`, { token: key });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    // cancelling again changes nothing; a run that has ended otherwise cannot be cancelled
    const twice = await h.request('POST', `/api/v1/workflow-runs/${run.id}/cancel`, { token: key });
    expect([twice.statusCode, twice.json().status]).toEqual([200, 'cancelled']);
    const [done] = await trigger('alerts', { recipients: [{ userId: 'ivy' }] });
    await h.advance();
    expect((await h.run(done.id)).status).toBe('completed');
    const late = await h.request('POST', `/api/v1/workflow-runs/${done.id}/cancel`, { token: key });
    expect([late.statusCode, late.json().code]).toEqual([409, 'run_ended']);
    clock += minutes(180);
    await h.advance();
    expect(await sent(run.id)).toEqual([]);
  });

  it('a channel step fired again (died after publishing, before recording) publishes the same notification id', async () => {
    const [run] = await trigger('alerts', { recipients: [{ userId: 'jon' }] });
    await h.advance();
    const [first] = await sent(run.id);
    // As if the process died right after the publish: the step is not recorded, the lease lapsed.
    await h.models.runs.updateOne(
      { _id: run.id },
      {
        $set: { status: 'active', position: 1, wakeAt: now(), leaseOwner: null, leaseUntil: null },
        $unset: { endedAt: '' },
        $pop: { history: 1 },
      },
    );
    await h.advance();
    const [again] = await sent(run.id);
    expect(again!.notificationId).toBe(first!.notificationId);
    const detail = await h.run(run.id);
    expect([detail.status, detail.notifications]).toEqual([
      'completed',
      [{ stepId: 'mail', channel: 'email', notificationId: first!.notificationId }],
    ]);
  });

  it('pages the runs of a workflow with a cursor', async () => {
    const admin = h.token('root', 'admin');
    const first = await h.request('GET', '/api/v1/workflow-runs?workflow=comments&limit=15', {
      token: admin,
    });
    expect(first.json().items).toHaveLength(15);
    const second = await h.request(
      'GET',
      `/api/v1/workflow-runs?workflow=comments&limit=100&cursor=${encodeURIComponent(first.json().nextCursor)}`,
      { token: admin },
    );
    expect(second.json().items).toHaveLength(26);
    expect(second.json().nextCursor).toBeNull();
  });
});
