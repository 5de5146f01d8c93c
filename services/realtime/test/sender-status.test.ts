import { MessageTypes, createMessage, type NotificationStatusPayload } from '@herald/contracts';
import { type NotificationStatusEvent } from '../src/sockets/protocol';
import { startHarness, type RealtimeHarness, record, waitFor, type Instance } from './harness';

/*
 * Live status for whoever sent a notification (issue 25): the notification
 * service publishes `notification.status` naming the sender; every realtime
 * instance pushes `notification:status` to that sender's own sockets, and to
 * nobody else, whoever the recipient was.
 */
describe('notification:status for the sender', () => {
  let harness: RealtimeHarness;
  let instance: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-sender-status');
    instance = await harness.startInstance();
  });
  afterAll(() => harness.cleanup());

  async function publishStatus(payload: NotificationStatusPayload) {
    const message = createMessage(MessageTypes.notificationStatus, payload, {
      correlationId: `corr-${payload.notificationId}`,
    });
    await harness.publisher.publish(
      harness.publisher.names.exchanges.events,
      MessageTypes.notificationStatus,
      message,
    );
    return message;
  }

  it("pushes each status change to the sender's sockets only, in order", async () => {
    const adminSocket = await harness.connectAs(instance.url, 'admin-1');
    const someoneElse = await harness.connectAs(instance.url, 'mallory');
    const adminHears = record<NotificationStatusEvent>(adminSocket, 'notification:status');
    const malloryHears = record<NotificationStatusEvent>(someoneElse, 'notification:status');

    const sent = await publishStatus({
      senderId: 'admin-1',
      notificationId: 'n-outside-1',
      channel: 'email',
      status: 'sent',
      at: '2026-12-04T10:00:00.000Z',
      detail: { attempt: 1 },
    });
    await publishStatus({
      senderId: 'admin-1',
      notificationId: 'n-outside-1',
      channel: 'email',
      status: 'delivered',
      at: '2026-12-04T10:00:05.000Z',
    });
    // Mallory's own event is the barrier: one queue, one order.
    await publishStatus({
      senderId: 'mallory',
      notificationId: 'n-mallory',
      channel: 'sms',
      status: 'sent',
      at: '2026-12-04T10:00:06.000Z',
    });

    await waitFor(() => adminHears.length === 2 && malloryHears.length === 1, {
      description: 'the statuses pushed',
    });
    expect(adminHears).toEqual([
      {
        notificationId: 'n-outside-1',
        channel: 'email',
        status: 'sent',
        at: '2026-12-04T10:00:00.000Z',
        detail: { attempt: 1 },
        occurredAt: sent.occurredAt,
        correlationId: 'corr-n-outside-1',
      },
      expect.objectContaining({ notificationId: 'n-outside-1', status: 'delivered' }),
    ]);
    expect(malloryHears.map((event) => event.notificationId)).toEqual(['n-mallory']);
  });
});
