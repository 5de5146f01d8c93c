import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import {
  EventRoutingKeys,
  MessageTypes,
  createMessage,
  type WorkflowRunChangedPayload,
  type WorkflowRunStatus,
} from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { defaultEventWebhookSettings } from '../src/config';
import { EventReceiver, verifySignature, type ReceivedDelivery } from './event-receiver';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Outgoing webhooks for workflow runs (issue 25's `workflow.run.*`): the
 * workflows service's `workflow.run.changed`, published on the real broker
 * into the service's queue, becomes signed deliveries to a real receiver on
 * 127.0.0.1, ordered per run, routed by the run's sender and category.
 */

const ADMIN_ID = 'ewh-runs-admin';

describe('event webhooks for workflow runs', () => {
  let h: Harness;
  let receiver: EventReceiver;
  let admin: string;
  let platform: { id: string; secret: string };

  beforeAll(async () => {
    receiver = new EventReceiver();
    await receiver.start();
    h = await startHarness('notif-event-webhooks-runs', {
      settings: {
        eventWebhooks: { ...defaultEventWebhookSettings, allowPrivate: true, pollIntervalMs: 600_000 },
      },
    });
    admin = h.token(ADMIN_ID, 'admin');
    const created = await h.request('POST', '/api/v1/event-webhooks', {
      token: admin,
      body: {
        url: receiver.url('/runs'),
        eventTypes: ['workflow.run.started', 'workflow.run.completed', 'workflow.run.cancelled'],
      },
    });
    expect(created.statusCode).toBe(201);
    platform = created.json();
  });
  afterAll(async () => {
    await h.close();
    await receiver.stop();
  });

  async function drive(): Promise<void> {
    for (let pass = 0; pass < 20; pass += 1) if ((await h.app.eventWebhooks.runOnce()) === 0) return;
    throw new Error('the dispatcher kept sending');
  }

  const parsed = (delivery: ReceivedDelivery): Json => JSON.parse(delivery.body);
  const about = (path: string, runId: string) =>
    receiver.at(path).filter((delivery) => parsed(delivery).data.runId === runId);

  function change(
    runId: string,
    status: WorkflowRunStatus,
    at: Date,
    extra: Partial<WorkflowRunChangedPayload> = {},
  ): WorkflowRunChangedPayload {
    return {
      runId,
      workflowKey: 'invoice-reminder',
      workflowVersion: 3,
      status,
      senderId: ADMIN_ID,
      senderKind: 'user',
      transactionId: 'order-42',
      recipient: 'sub:customer-42',
      notificationIds: [],
      startedAt: '2026-12-01T10:00:00.000Z',
      at: at.toISOString(),
      ...extra,
    };
  }

  async function publish(payload: WorkflowRunChangedPayload): Promise<void> {
    await h.publishEvent(
      EventRoutingKeys.workflowRunChanged,
      createMessage(MessageTypes.workflowRunChanged, payload, { correlationId: `run:${payload.runId}` }),
    );
  }

  /** Waits until the consumer has recorded `count` deliveries for the run. */
  async function recorded(runId: string, count: number): Promise<void> {
    await waitFor(
      async () =>
        (await h.app.context.models.eventWebhookDeliveries.countDocuments({ notificationId: runId })) >=
        count,
      { description: `${count} deliveries recorded for run ${runId}` },
    );
  }

  it('delivers a run started then completed, signed, once per webhook-id, in order, even when announced twice', async () => {
    const runId = new Types.ObjectId().toHexString();
    const notificationId = new Types.ObjectId().toHexString();
    const started = change(runId, 'active', new Date('2026-12-01T10:00:00.000Z'));
    const completed = change(runId, 'completed', new Date('2026-12-01T10:30:00.000Z'), {
      notificationIds: [notificationId],
    });
    // the completion consumed first, and both announced twice (the relay is at least once)
    await publish(completed);
    await publish(started);
    await publish(completed);
    await publish(started);
    await recorded(runId, 2);
    await drive();

    const received = about('/runs', runId);
    expect(received.map((delivery) => parsed(delivery).type)).toEqual([
      'workflow.run.started',
      'workflow.run.completed',
    ]);
    expect(new Set(received.map((delivery) => delivery.id)).size).toBe(2);
    for (const delivery of received) expect(verifySignature(platform.secret, delivery)).toBe(true);
    expect(parsed(received[1]!)).toEqual({
      type: 'workflow.run.completed',
      timestamp: '2026-12-01T10:30:00.000Z',
      data: {
        runId,
        workflowKey: 'invoice-reminder',
        workflowVersion: 3,
        status: 'completed',
        transactionId: 'order-42',
        recipient: 'sub:customer-42',
        notificationIds: [notificationId],
        startedAt: '2026-12-01T10:00:00.000Z',
      },
    });
    // a tampered body fails verification
    expect(
      verifySignature(platform.secret, { ...received[1]!, body: received[1]!.body.replace('3', '4') }),
    ).toBe(false);

    // redelivered once more after everything went: nothing new
    await publish(completed);
    await waitFor(async () => (await h.app.eventWebhooks.runOnce()) === 0);
    await drive();
    expect(about('/runs', runId)).toHaveLength(2);
  });

  it("sends an application's endpoint only the runs it triggered, filtered by category, and only the types it subscribed to", async () => {
    await h.createCategories('billing');
    const app = await h.createApiKey(['notifications:send', 'webhooks:write']);
    const created = await h.request('POST', '/api/v1/event-webhooks', {
      token: app.key,
      body: {
        url: receiver.url('/app'),
        eventTypes: ['workflow.run.completed'],
        categories: ['billing'],
      },
    });
    expect(created.statusCode).toBe(201);
    const appKeyId = app.snapshot.keyId;
    const mine = new Types.ObjectId().toHexString();
    const otherCategory = new Types.ObjectId().toHexString();
    const someoneElses = new Types.ObjectId().toHexString();
    const at = new Date('2026-12-02T08:00:00.000Z');
    const byApp = { senderId: appKeyId, senderKind: 'apikey' as const, category: 'billing' };
    await publish(change(mine, 'active', at, byApp));
    await publish(change(mine, 'completed', at, byApp));
    await publish(change(otherCategory, 'completed', at, { ...byApp, category: 'ops' }));
    await publish(change(someoneElses, 'completed', at, { category: 'billing' }));
    // the platform endpoint sees every run: once it has all three, the consumer is past them
    await recorded(mine, 3);
    await recorded(otherCategory, 1);
    await recorded(someoneElses, 1);
    await drive();

    const toApp = receiver.at('/app');
    expect(toApp.map((delivery) => [parsed(delivery).type, parsed(delivery).data.runId])).toEqual([
      ['workflow.run.completed', mine],
    ]);
    expect(verifySignature(created.json().secret, toApp[0]!)).toBe(true);
    expect(about('/runs', someoneElses)).toHaveLength(1);
  });

  it('sends no event for a run that ended throttled, and records nothing for a change the contract refuses', async () => {
    const throttled = new Types.ObjectId().toHexString();
    await publish(change(throttled, 'throttled', new Date()));
    // an invalid message (no status) is refused by the contract, not recorded
    const invalid = createMessage(MessageTypes.workflowRunChanged, change(throttled, 'failed', new Date()), {
      correlationId: 'test',
    }) as unknown as { payload: Record<string, unknown>; messageId: string };
    delete invalid.payload.status;
    invalid.messageId = randomUUID();
    await h.publishEvent(EventRoutingKeys.workflowRunChanged, invalid as never);
    const marker = new Types.ObjectId().toHexString();
    await publish(change(marker, 'cancelled', new Date()));
    await recorded(marker, 1);
    expect(
      await h.app.context.models.eventWebhookDeliveries.countDocuments({ notificationId: throttled }),
    ).toBe(0);
  });
});
