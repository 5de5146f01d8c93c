import {
  EventRoutingKeys,
  validateKnownMessage,
  type WorkflowRunChangedMessage,
  type WorkflowSendMessage,
} from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * `workflow.run.changed` (outgoing webhooks' `workflow.run.*`): each status
 * change is recorded on the run in the write that makes it and published by
 * the poller's relay with a broker confirm, then removed. Real broker, real
 * database, the clock moved by the test. The failure case is a real one: the
 * broker cannot route the message (its bindings removed), so the publish is
 * refused; once they are back, the next pass publishes what was left.
 */
describe('run changes announced', () => {
  let h: Harness;
  let clock = Date.parse('2026-06-01T09:00:00.000Z');
  const now = () => new Date(clock);
  const minutes = (n: number) => n * 60_000;
  let key: { key: string; snapshot: { keyId: string } };
  let changes: string;
  let sends: string;

  beforeAll(async () => {
    h = await startHarness('wf-run-changes', { now });
    await h.announceTemplate('nudge', ['in_app', 'email']);
    key = await h.createApiKey(['notifications:send']);
    changes = await h.tap(EventRoutingKeys.workflowRunChanged);
    sends = await h.tapSends();
    const admin = h.token('root', 'admin');
    for (const body of [
      {
        key: 'escalation',
        category: 'billing',
        steps: [
          { id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' },
          { id: 'wait', type: 'delay', duration: '30m' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
        ],
      },
      {
        key: 'stop-when-read',
        steps: [
          { id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' },
          { id: 'stop', type: 'cancel-on', event: 'read', step: 'inbox' },
          { id: 'wait', type: 'delay', duration: '30m' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
        ],
      },
      { key: 'instant', steps: [{ id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' }] },
    ]) {
      const response = await h.request('POST', '/api/v1/workflows', { token: admin, body });
      expect(response.statusCode).toBe(201);
    }
  });
  afterAll(() => h.close());

  async function trigger(workflow: string, body: Json, token = key.key): Promise<string> {
    const response = await h.request('POST', `/api/v1/workflows/${workflow}/trigger`, { token, body });
    expect(response.statusCode).toBe(202);
    return response.json().runs[0].id as string;
  }

  /** The changes published since the last call, for one run, each checked against the contract. */
  async function announced(runId: string): Promise<WorkflowRunChangedMessage['payload'][]> {
    const messages = await h.drain<WorkflowRunChangedMessage>(changes);
    for (const message of messages) expect(validateKnownMessage(message).ok).toBe(true);
    return messages.map((message) => message.payload).filter((payload) => payload.runId === runId);
  }

  const pending = async (runId: string) =>
    ((await h.models.runs.findById(runId).lean())?.announcements ?? []).map((one) => one.status);

  it('announces started, then completed with the run summary, each once', async () => {
    const startedAt = now();
    const runId = await trigger('escalation', {
      recipients: [{ subscriberId: 'customer-7' }],
      data: {},
      transactionId: 'order-7',
    });
    await h.advance();
    const started = await announced(runId);
    expect(started).toEqual([
      {
        runId,
        workflowKey: 'escalation',
        workflowVersion: 1,
        status: 'active',
        senderId: key.snapshot.keyId,
        senderKind: 'apikey',
        category: 'billing',
        transactionId: 'order-7',
        recipient: 'sub:customer-7',
        notificationIds: expect.any(Array),
        startedAt: startedAt.toISOString(),
        at: startedAt.toISOString(),
      },
    ]);
    expect(await pending(runId)).toEqual([]);

    clock += minutes(30);
    await h.advance();
    await h.advance();
    const ended = await announced(runId);
    expect(ended.map((change) => [change.status, change.at])).toEqual([['completed', now().toISOString()]]);
    const notificationIds = (await h.drain<WorkflowSendMessage>(sends))
      .filter((message) => message.payload.runId === runId)
      .map((message) => message.payload.notificationId);
    expect(ended[0]!.notificationIds).toEqual(notificationIds);
    expect(notificationIds).toHaveLength(2);
    // nothing left to announce: later passes publish nothing more
    await h.advance();
    expect(await announced(runId)).toEqual([]);
  });

  it('announces a cancel by the API and a cancel-on, with the user who triggered as sender', async () => {
    const admin = h.token('ops-admin', 'admin');
    const byApi = await trigger('escalation', { recipients: [{ userId: 'ada' }], data: {} }, admin);
    const byRead = await trigger('stop-when-read', { recipients: [{ userId: 'bob' }], data: {} }, admin);
    await h.advance();
    const cancelled = await h.request('POST', `/api/v1/workflow-runs/${byApi}/cancel`, { token: admin });
    expect(cancelled.statusCode).toBe(200);
    const inbox = (await h.drain<WorkflowSendMessage>(sends)).find(
      (message) => message.payload.runId === byRead,
    );
    await h.notificationRead(inbox!.payload.notificationId, 'bob', now());
    // the consumer records the read, then cancels in a second write
    await waitFor(() => h.models.runs.exists({ _id: byRead, status: 'cancelled' }), {
      description: 'the cancel-on applied',
    });
    await h.advance();
    const messages = await h.drain<WorkflowRunChangedMessage>(changes);
    const of = (runId: string) =>
      messages.filter((message) => message.payload.runId === runId).map((message) => message.payload);
    expect(of(byApi).map((change) => [change.status, change.senderId, change.senderKind])).toEqual([
      ['active', 'ops-admin', 'user'],
      ['cancelled', 'ops-admin', 'user'],
    ]);
    expect(of(byRead).map((change) => change.status)).toEqual(['active', 'cancelled']);
  });

  it('keeps a change the broker refused pending, and publishes it, in order, on a later pass', async () => {
    const events = h.names.exchanges.events;
    const queues = [h.names.durableQueues.notificationEvents, changes];
    // nothing bound to workflow.run.changed: the broker returns the message, the publish fails
    for (const queue of queues)
      await h.channel.unbindQueue(queue, events, EventRoutingKeys.workflowRunChanged);
    const runId = await trigger('instant', { recipients: [{ userId: 'cy' }], data: {} });
    await h.advance();
    expect((await h.run(runId)).status).toBe('completed');
    expect(await pending(runId)).toEqual(['active', 'completed']);
    await h.advance();
    expect(await pending(runId)).toEqual(['active', 'completed']);

    for (const queue of queues) await h.channel.bindQueue(queue, events, EventRoutingKeys.workflowRunChanged);
    await h.advance();
    expect((await announced(runId)).map((change) => change.status)).toEqual(['active', 'completed']);
    expect(await pending(runId)).toEqual([]);
  });
});
