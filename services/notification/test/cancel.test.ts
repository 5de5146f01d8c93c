import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Cancelling what has not gone out yet (issue 18): a scheduled notification
 * deleted from the inbox, or cancelled by its sender (by id or by the
 * `transactionId` it was sent with), publishes nothing when its time comes.
 */
describe('cancelling pending notifications', () => {
  let h: Harness;
  let clock = Date.now();
  const now = () => new Date(clock);
  beforeAll(async () => {
    h = await startHarness('notif-cancel', { now });
  });
  afterAll(() => h.close());

  async function schedule(token: string, body: Json) {
    const response = await h.request('POST', '/api/v1/notifications', {
      token,
      body: {
        title: 'Reminder',
        body: 'Pay your invoice',
        channels: ['in_app', 'email'],
        sendAt: new Date(clock + 3_600_000).toISOString(),
        ...body,
      },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  /** Moves past every scheduled time and lets the relay pass twice. */
  async function passTheDueTime() {
    clock += 3_600_001;
    await h.app.relay.runOnce();
    await h.app.relay.runOnce();
  }

  it('deleting a scheduled notification before its time sends nothing (it used to send its email)', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    const created = await h.tapCreated();
    const id = await schedule(token, { recipient: { userId: user.userId } });

    const deleted = await h.request('DELETE', `/api/v1/notifications/${id}`, { token });
    expect(deleted.statusCode).toBe(204);
    await passTheDueTime();

    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);
    expect(await h.drainCreated(created)).toEqual([]);
    const stored = await h.stored(id);
    expect(stored.deliveries.email.status).toBe('cancelled');
    expect(stored.deliveries.in_app.status).toBe('cancelled');
  });

  it('cancels by id: the sender sees it cancelled and no job is published at its time', async () => {
    const user = await h.registerUser();
    const token = h.token(user.userId);
    const id = await schedule(token, { recipient: { userId: user.userId } });

    const cancelled = await h.request('POST', `/api/v1/notifications/${id}/cancel`, { token });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      id,
      cancelled: true,
      statuses: { in_app: 'cancelled', email: 'cancelled' },
    });
    await passTheDueTime();
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);

    const detail = (await h.request('GET', `/api/v1/notifications/${id}`, { token })).json();
    expect(detail.cancelledAt).toEqual(expect.any(String));
    expect(detail.deliveries.email.status).toBe('cancelled');
    expect(detail.history.map((entry: Json) => [entry.channel, entry.status])).toEqual(
      expect.arrayContaining([
        ['email', 'cancelled'],
        ['in_app', 'cancelled'],
      ]),
    );
    // A second cancel changes nothing and says so.
    const again = await h.request('POST', `/api/v1/notifications/${id}/cancel`, { token });
    expect(again.statusCode).toBe(200);
    expect(again.json().statuses).toEqual({ in_app: 'cancelled', email: 'cancelled' });
  });

  it('lets only the sender, an admin or the sending key cancel: others get 404, an inbox token 403', async () => {
    const app = await h.createApiKey(['notifications:send']);
    const otherKey = await h.createApiKey(['notifications:send']);
    const recipient = await h.registerUser();
    const stranger = await h.registerUser();
    const id = await schedule(app.key, { recipient: { userId: recipient.userId }, channels: ['email'] });

    const anonymous = await h.request('POST', `/api/v1/notifications/${id}/cancel`);
    expect(anonymous.statusCode).toBe(401);
    for (const token of [h.token(stranger.userId), h.token(recipient.userId), otherKey.key]) {
      const refused = await h.request('POST', `/api/v1/notifications/${id}/cancel`, { token });
      expect(refused.statusCode).toBe(404);
    }
    const inbox = await h.request('POST', `/api/v1/notifications/${id}/cancel`, {
      token: h.inboxToken('someone'),
    });
    expect(inbox.statusCode).toBe(403);

    const byKey = await h.request('POST', `/api/v1/notifications/${id}/cancel`, { token: app.key });
    expect(byKey.statusCode).toBe(200);
    expect(byKey.json().statuses).toEqual({ email: 'cancelled' });

    const adminCancel = await h.request('POST', `/api/v1/notifications/${id}/cancel`, {
      token: h.token('root', 'admin'),
    });
    expect(adminCancel.statusCode).toBe(200);
  });

  it('cancels every pending notification sent with a transactionId, and only the sender’s', async () => {
    const app = await h.createApiKey(['notifications:send']);
    const other = await h.createApiKey(['notifications:send']);
    const users = await Promise.all([h.registerUser(), h.registerUser()]);
    const ids = await Promise.all(
      users.map((user) =>
        schedule(app.key, {
          recipient: { userId: user.userId },
          channels: ['email'],
          transactionId: 'order-42',
        }),
      ),
    );
    const othersId = await schedule(other.key, {
      recipient: { userId: users[0]!.userId },
      channels: ['email'],
      transactionId: 'order-42',
    });

    const response = await h.request('POST', '/api/v1/notifications/cancel', {
      token: app.key,
      body: { transactionId: 'order-42' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().cancelled.sort()).toEqual([...ids].sort());

    await passTheDueTime();
    const jobs = await waitFor(async () => {
      const drained = await h.drain(h.names.queues.work.email);
      return drained.length > 0 ? drained : undefined;
    });
    expect(jobs.map((job: Json) => job.payload.notificationId)).toEqual([othersId]);
    const detail = (
      await h.request('GET', `/api/v1/notifications/${ids[0]}`, { token: h.token('root', 'admin') })
    ).json();
    expect(detail.transactionId).toBe('order-42');

    const bad = await h.request('POST', '/api/v1/notifications/cancel', { token: app.key, body: {} });
    expect(bad.statusCode).toBe(400);
  });
});
