import { FakeMailgun } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { owedMessages } from '../src/outbox/domain/outbox';
import { startHarness, type Harness, type Json } from './harness';
import {
  emailStatus,
  postMailgun,
  reportSent,
  sendThroughMailgun,
  untilEmailStatus,
} from './webhook-helpers';

/** An admin the read model does not know: for a known user, the read model's role wins over the token's. */
const ADMIN_ID = 'mailgun-admin';

describe('Mailgun webhooks', () => {
  let h: Harness;
  let mailgun: FakeMailgun;
  let userId: string;
  let email: string;

  beforeAll(async () => {
    mailgun = await FakeMailgun.start({ webhookSigningKey: 'mg-signing-key-for-tests' });
    h = await startHarness('notif-webhooks-mg', {
      settings: { mailgunWebhookSigningKey: mailgun.webhookSigningKey, prefetch: 1 },
    });
    ({ userId, email } = (await h.registerUser()) as { userId: string; email: string });
  });
  afterAll(async () => {
    await h.close();
    await mailgun.close();
  });

  async function createEmail(to?: string): Promise<string> {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(ADMIN_ID, 'admin'),
      body: {
        title: 'Receipt',
        body: 'Thanks',
        recipient: to ? { email: to } : { userId },
        channels: ['email'],
      },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  async function sentEmail(): Promise<{
    id: string;
    message: Awaited<ReturnType<typeof sendThroughMailgun>>;
  }> {
    const id = await createEmail();
    const message = await sendThroughMailgun(h, mailgun, id, email);
    await untilEmailStatus(h, id, 'sent');
    return { id, message };
  }

  it('applies a delivered event found by the bracket-less message id and publishes notification.updated', async () => {
    const updated = await h.tapEvents('notification.updated');
    const { id, message } = await sentEmail();

    const response = await postMailgun(h, mailgun.webhookBody({ event: 'delivered', message }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ outcome: 'applied' });

    const record: Json = await emailStatus(h, id);
    expect(record.deliveries.email.status).toBe('delivered');
    expect(record.providerMessageIds).toEqual([message.messageId!.replace(/^<|>$/g, '')]);
    expect(record.history.at(-1)).toMatchObject({ status: 'delivered', source: 'webhook:mailgun' });
    const events = await waitFor(
      async () => {
        const all: Json[] = await h.drain(updated);
        const mine = all.filter((event) => event.payload.notificationId === id);
        return mine.some((event) => event.payload.change.status === 'delivered') ? mine : undefined;
      },
      { description: 'notification.updated for delivered' },
    );
    expect(events.at(-1).payload).toMatchObject({
      userId,
      change: { kind: 'status', channel: 'email', status: 'delivered' },
    });
  });

  it("publishes a webhook's status change with the notification's own correlation id", async () => {
    const updated = await h.tapEvents('notification.updated');
    const { id, message } = await sentEmail();
    const stored = await h.models.notifications.findById(id, { correlationId: 1 }).lean();
    expect(stored?.correlationId).toEqual(expect.any(String));

    const response = await postMailgun(h, mailgun.webhookBody({ event: 'delivered', message }));
    expect(response.json()).toEqual({ outcome: 'applied' });

    const delivered = await waitFor(
      async () => {
        const all: Json[] = await h.drain(updated);
        return all.find(
          (event) => event.payload.notificationId === id && event.payload.change.status === 'delivered',
        );
      },
      { description: 'notification.updated for delivered' },
    );
    expect(delivered.correlationId).toBe(stored!.correlationId);
    expect(delivered.correlationId).not.toMatch(/^webhook:/);
  });

  it('publishes notification.updated for the first open only, keeping the earliest open time', async () => {
    const updated = await h.tapEvents('notification.updated');
    const { id, message } = await sentEmail();
    const openedAt = new Date(Math.floor(Date.now() / 1000) * 1000);

    const first = await postMailgun(
      h,
      mailgun.webhookBody({ event: 'opened', message, timestamp: openedAt }),
    );
    expect(first.json()).toEqual({ outcome: 'applied' });
    // A second open, reported out of order with an earlier time: recorded, but not news.
    const earlier = new Date(openedAt.getTime() - 60_000);
    const again = await postMailgun(h, mailgun.webhookBody({ event: 'opened', message, timestamp: earlier }));
    expect(again.json()).toEqual({ outcome: 'applied' });
    // The click is the barrier: one publisher, one queue, so whatever the second open published is before it.
    await postMailgun(h, mailgun.webhookBody({ event: 'clicked', message }));

    const engagements = await waitFor(
      async () => {
        const all: Json[] = await h.drain(updated);
        const mine = all.filter(
          (event) => event.payload.notificationId === id && event.payload.change.kind === 'engagement',
        );
        return mine.some((event) => event.payload.change.engagement === 'clicked') ? mine : undefined;
      },
      { description: 'notification.updated for the click' },
    );
    expect(engagements.map((event) => event.payload)).toEqual([
      {
        userId,
        notificationId: id,
        change: { kind: 'engagement', channel: 'email', engagement: 'opened', at: openedAt.toISOString() },
        // an open does not move the unread count: none is counted or sent
      },
      expect.objectContaining({ change: expect.objectContaining({ engagement: 'clicked' }) }),
    ]);
    const record: Json = await emailStatus(h, id);
    expect(record.engagement.openedAt).toEqual(earlier);
    expect(record.engagement.clickedAt).toBeInstanceOf(Date);
  });

  it('rejects a bad signature, a stale timestamp and a replayed token with 406, changing nothing', async () => {
    const { id, message } = await sentEmail();
    const before: Json = await emailStatus(h, id);

    const forged = mailgun.webhookBody({ event: 'delivered', message }) as Json;
    forged.signature.signature = forged.signature.signature.replace(/^./, (c: string) =>
      c === 'a' ? 'b' : 'a',
    );
    const stale = mailgun.webhookBody({
      event: 'delivered',
      message,
      timestamp: new Date(Date.now() - 10 * 60_000),
    });
    const wrongKey = new FakeMailgun({ webhookSigningKey: 'someone-else' });
    const otherKey = wrongKey.webhookBody({ event: 'delivered', message });

    for (const body of [forged, stale, otherKey]) {
      const response = await postMailgun(h, body);
      expect(response.statusCode).toBe(406);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(await emailStatus(h, id)).toEqual(before);

    // The genuine event once, then the same signed body again: the token was seen.
    const genuine = mailgun.webhookBody({ event: 'opened', message });
    expect((await postMailgun(h, genuine)).statusCode).toBe(200);
    const afterFirst: Json = await emailStatus(h, id);
    expect(afterFirst.engagement.openedAt).toBeInstanceOf(Date);
    const replay = await postMailgun(h, genuine);
    expect(replay.statusCode).toBe(406);
    expect(replay.json().detail).toMatch(/already used/);
    expect(await emailStatus(h, id)).toEqual(afterFirst);
  });

  it('keeps delivered when the worker reports sent after it, and a late accepted does not undo it', async () => {
    const id = await createEmail();
    const message = await sendThroughMailgun(h, mailgun, id, email, { reportSent: false });

    // The webhook beats the worker's report: matched by the signed `v:notification-id`.
    const delivered = await postMailgun(h, mailgun.webhookBody({ event: 'delivered', message }));
    expect(delivered.json()).toEqual({ outcome: 'applied' });
    const accepted = await postMailgun(h, mailgun.webhookBody({ event: 'accepted', message }));
    expect(accepted.json()).toEqual({ outcome: 'ignored' });

    await reportSent(h, id, message.messageId!);
    // A later email's `sent` marks that the consumer (prefetch 1) handled the stale report.
    await sentEmail();
    const record: Json = await emailStatus(h, id);
    expect(record.deliveries.email.status).toBe('delivered');
    expect(record.history.map((entry: Json) => entry.status)).toEqual(['queued', 'delivered']);
  });

  it('suppresses an address after a permanent failure: the next email ends suppressed with no job', async () => {
    const address = 'Bouncy@Example.com';
    const first = await createEmail(address);
    const message = await sendThroughMailgun(h, mailgun, first, address);
    await untilEmailStatus(h, first, 'sent');
    const callsBefore = mailgun.requests.length;

    const bounce = mailgun.webhookBody({
      event: 'failed',
      severity: 'permanent',
      reason: 'bounce',
      deliveryStatus: { code: 550, message: 'No such user' },
      message,
    });
    expect((await postMailgun(h, bounce)).json()).toEqual({ outcome: 'applied' });
    const bounced: Json = await emailStatus(h, first);
    expect(bounced.deliveries.email).toMatchObject({
      status: 'bounced',
      errorCode: 'bounced',
      reason: 'bounce',
    });

    const admin = h.token(ADMIN_ID, 'admin');
    const list = await h.request('GET', '/api/v1/admin/suppressions', { token: admin });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([
      expect.objectContaining({
        address: 'bouncy@example.com',
        channel: 'email',
        reason: 'bounced',
        provider: 'mailgun',
      }),
    ]);

    const second = await createEmail('bouncy@example.com');
    const suppressed: Json = await emailStatus(h, second);
    expect(suppressed.deliveries.email.status).toBe('suppressed');
    // it owes nothing: the relay never looks at it
    expect(suppressed).not.toHaveProperty('outboxDueAt');
    expect(suppressed.history.map((entry: Json) => entry.status)).toEqual(['queued', 'suppressed']);
    expect(mailgun.requests.length).toBe(callsBefore);

    // Lifted by an admin, the address gets a delivery job again.
    expect(
      (await h.request('DELETE', '/api/v1/admin/suppressions/bouncy%40example.com', { token: admin }))
        .statusCode,
    ).toBe(204);
    const third: Json = await emailStatus(h, await createEmail(address));
    expect(third.deliveries.email.status).toBe('queued');
    expect(owedMessages(third, new Date()).map((entry) => entry.kind)).toEqual(['job']);
    expect(
      (await h.request('GET', '/api/v1/admin/suppressions', { token: h.token(userId) })).statusCode,
    ).toBe(403);
  });

  it('answers 503 and accepts nothing when no signing key is configured', async () => {
    const bare = await startHarness('notif-webhooks-mg-off');
    try {
      const { id, message } = await sentEmail();
      const response = await postMailgun(bare, mailgun.webhookBody({ event: 'delivered', message }));
      expect(response.statusCode).toBe(503);
      expect((await emailStatus(h, id)).deliveries.email.status).toBe('sent');
    } finally {
      await bare.close();
    }
  });
});
