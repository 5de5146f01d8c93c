import { randomUUID } from 'node:crypto';
import { MessageTypes, createMessage, type DeliveryStatusPayload } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Prefetch 1: the consumer handles the queue strictly in order, so a test
 * knows a stale report was handled once a later report (the marker) shows.
 */
describe('delivery.status events', () => {
  let h: Harness;
  let userId: string;
  beforeAll(async () => {
    h = await startHarness('notif-status', { settings: { prefetch: 1 } });
    userId = (await h.registerUser({ phone: '+14155550111' })).userId;
  });
  afterAll(() => h.close());

  async function sendEmail(channels = ['email']): Promise<string> {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(userId),
      body: { title: 'Receipt', body: 'Thanks', recipient: { userId }, channels },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  function report(notificationId: string, payload: Partial<DeliveryStatusPayload>) {
    return createMessage(
      MessageTypes.deliveryStatus,
      {
        notificationId,
        channel: 'email',
        status: 'sent',
        attempt: 1,
        at: new Date().toISOString(),
        ...payload,
      },
      { correlationId: 'worker-test' },
    );
  }

  async function publish(message: { messageId: string; correlationId: string; type: string }) {
    await h.publishEvent('delivery.status', message);
  }

  const detail = async (id: string): Promise<Json> =>
    (await h.request('GET', `/api/v1/notifications/${id}`, { token: h.token(userId) })).json();

  async function untilStatus(id: string, status: string, channel = 'email') {
    return waitFor(
      async () => {
        const record = await detail(id);
        return record.deliveries[channel]?.status === status ? record : undefined;
      },
      { description: `${channel} ${status}` },
    );
  }

  /** Handled after everything published before it (prefetch 1). */
  async function barrier() {
    const marker = await sendEmail();
    await publish(report(marker, { status: 'sending' }));
    await untilStatus(marker, 'sending');
  }

  it('applies reports, records provider ids in the history, and publishes notification.updated', async () => {
    const updated = await h.tapEvents('notification.updated');
    const id = await sendEmail();
    await publish(report(id, { status: 'sending' }));
    await untilStatus(id, 'sending');
    await publish(report(id, { status: 'sent', provider: 'mailgun', providerMessageId: '<abc@mg.example>' }));
    const record = await untilStatus(id, 'sent');

    expect(record.deliveries.email).toMatchObject({
      status: 'sent',
      provider: 'mailgun',
      providerMessageId: '<abc@mg.example>',
    });
    expect(record.history.map((entry: Json) => [entry.channel, entry.status])).toEqual([
      ['email', 'queued'],
      ['email', 'sending'],
      ['email', 'sent'],
    ]);
    expect(record.history[2]).toMatchObject({
      source: 'worker:mailgun',
      detail: { attempt: 1, provider: 'mailgun', providerMessageId: '<abc@mg.example>' },
    });
    const status = await h.request('GET', `/api/v1/notifications/${id}/status`, { token: h.token(userId) });
    expect(status.json().channels.email).toMatchObject({
      status: 'sent',
      providerMessageId: '<abc@mg.example>',
    });

    const events = await waitFor(async () => {
      const drained = (await h.drain(updated)).filter((event) => event.payload.notificationId === id);
      return drained.length >= 2 ? drained : undefined;
    });
    expect(events.map((event) => event.payload.change.status)).toEqual(['sending', 'sent']);
    expect(events[1].payload).toMatchObject({
      userId,
      change: { kind: 'status', channel: 'email' },
    });
    // a delivery status cannot move the unread count: none counted, none sent
    expect(events.map((event) => event.payload)).toEqual([
      expect.not.objectContaining({ unreadCount: expect.anything() }),
      expect.not.objectContaining({ unreadCount: expect.anything() }),
    ]);
  });

  it('ends in the right status when reports arrive out of order', async () => {
    const id = await sendEmail();
    await publish(report(id, { status: 'delivered' }));
    await untilStatus(id, 'delivered');
    await publish(report(id, { status: 'sent' }));
    await publish(report(id, { status: 'sending' }));
    await publish(
      report(id, { status: 'failed', error: { code: 'late', message: 'slow failure', permanent: true } }),
    );
    await barrier();

    const record = await detail(id);
    expect(record.deliveries.email.status).toBe('delivered');
    expect(record.history.map((entry: Json) => entry.status)).toEqual(['queued', 'delivered']);

    // A bounce after delivery is the truer, later verdict.
    await publish(
      report(id, { status: 'bounced', error: { code: 'mailbox_full', message: 'full', permanent: true } }),
    );
    const bounced = await untilStatus(id, 'bounced');
    expect(bounced.deliveries.email).toMatchObject({ errorCode: 'mailbox_full', reason: 'full' });
  });

  it('refreshes the attempt of a retrying channel and never goes back from a verdict', async () => {
    const id = await sendEmail();
    const next = new Date(Date.now() + 60_000).toISOString();
    await publish(
      report(id, {
        status: 'retrying',
        attempt: 1,
        error: { code: 'provider_unavailable', message: '503', permanent: false },
      }),
    );
    await untilStatus(id, 'retrying');
    await publish(report(id, { status: 'retrying', attempt: 2, nextAttemptAt: next }));
    const retried = await waitFor(async () => {
      const record = await detail(id);
      return record.deliveries.email.attempt === 2 ? record : undefined;
    });
    expect(retried.deliveries.email).toMatchObject({ status: 'retrying', nextAttemptAt: next });

    await publish(report(id, { status: 'dead', attempt: 3 }));
    await untilStatus(id, 'dead');
    await publish(report(id, { status: 'sent', attempt: 2 }));
    await barrier();
    expect((await detail(id)).deliveries.email.status).toBe('dead');
  });

  it('changes nothing twice for a redelivered report', async () => {
    const updated = await h.tapEvents('notification.updated');
    const id = await sendEmail();
    const sent = report(id, { status: 'sent', providerMessageId: 'p-1' });
    await publish(sent);
    await untilStatus(id, 'sent');
    await publish(sent);
    await barrier();

    const record = await detail(id);
    expect(record.history.filter((entry: Json) => entry.status === 'sent')).toHaveLength(1);
    // The repeat republishes the same change (in case the first event was lost); it never reapplies it.
    const events = (await h.drain(updated)).filter((event) => event.payload.notificationId === id);
    expect(events.map((event) => event.payload.change.status)).toEqual(['sent', 'sent']);
  });

  it('dead-letters reports it cannot apply, and malformed messages', async () => {
    const inAppOnly = await sendEmail(['in_app']);
    const unknownNotification = report('0123456789abcdef01234567', { status: 'sent' });
    const noSuchChannel = report(inAppOnly, { status: 'sent' });
    const malformed = { messageId: randomUUID(), correlationId: 'x', type: 'delivery.status' };
    await publish(unknownNotification);
    await publish(noSuchChannel);
    await publish(malformed);
    // The dead-letters drain moves the DLQ into the `dead_letters` collection as it fills.
    const stored = () =>
      h.mongo.connection
        .collection('dead_letters')
        .find({
          messageId: { $in: [unknownNotification.messageId, noSuchChannel.messageId, malformed.messageId] },
        })
        .toArray();
    const deadLetters = await waitFor(async () => ((await stored()).length === 3 ? stored() : undefined), {
      description: 'three dead letters',
    });
    expect(Object.fromEntries(deadLetters.map((entry) => [entry.messageId, entry.reason]))).toEqual({
      [unknownNotification.messageId]: 'permanent_error',
      [noSuchChannel.messageId]: 'permanent_error',
      [malformed.messageId]: 'invalid_message',
    });
  });
});
