import { MessageTypes, WebhookPaths, createMessage } from '@herald/contracts';
import { FakeSendGrid, type RecordedRequest, type SendGridWebhookInput } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';
import { emailStatus, untilEmailStatus } from './webhook-helpers';

/** An admin the read model does not know: for a known user, the read model's role wins over the token's. */
const ADMIN_ID = 'sendgrid-admin';

describe('SendGrid event webhook', () => {
  let h: Harness;
  let sendgrid: FakeSendGrid;
  let userId: string;
  let email: string;

  beforeAll(async () => {
    sendgrid = await FakeSendGrid.start();
    h = await startHarness('notif-webhooks-sg', {
      settings: { sendgridWebhookPublicKey: sendgrid.webhookPublicKey, prefetch: 1 },
    });
    ({ userId, email } = (await h.registerUser()) as { userId: string; email: string });
  });
  afterAll(async () => {
    await h.close();
    await sendgrid.close();
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

  async function reportSent(notificationId: string, providerMessageId: string) {
    await h.publishEvent(
      'delivery.status',
      createMessage(
        MessageTypes.deliveryStatus,
        {
          notificationId,
          channel: 'email',
          status: 'sent',
          attempt: 1,
          at: new Date().toISOString(),
          provider: 'sendgrid',
          providerMessageId,
        },
        { correlationId: 'worker-test' },
      ),
    );
  }

  /**
   * The worker's part: the email sent through the fake SendGrid with the custom args the
   * worker's SendGrid provider sets, and (unless told not to) `sent` reported with the
   * X-Message-Id SendGrid answered.
   */
  async function sendThroughSendGrid(
    notificationId: string,
    to: string,
    options: { reportSent?: boolean } = {},
  ): Promise<RecordedRequest> {
    const response = await fetch(`${sendgrid.url}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sendgrid.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: to }] }],
        from: { email: 'noreply@example.com' },
        subject: 'Receipt',
        content: [{ type: 'text/plain', value: 'Thanks' }],
        custom_args: { herald_notification_id: notificationId, herald_channel: 'email', herald_job_id: 'j' },
      }),
    });
    expect(response.status).toBe(202);
    const messageId = response.headers.get('x-message-id')!;
    if (options.reportSent !== false) {
      await reportSent(notificationId, messageId);
      await untilEmailStatus(h, notificationId, 'sent');
    }
    return sendgrid.findMessage(messageId)!;
  }

  /** A batch exactly as the fake signs it, posted to the app as the gateway forwards it. */
  function post(input: SendGridWebhookInput, fake: FakeSendGrid = sendgrid) {
    const { body, headers } = fake.signedWebhook(input);
    return h.request('POST', WebhookPaths.sendgrid, { body, headers });
  }

  const suppressionsOf = (address: string) =>
    h.models.suppressions.countDocuments({ _id: address.toLowerCase() });

  it('applies a signed delivered event and publishes notification.updated with its own correlation id', async () => {
    const updated = await h.tapEvents('notification.updated');
    const id = await createEmail();
    const message = await sendThroughSendGrid(id, email);
    const stored = await h.models.notifications.findById(id, { correlationId: 1 }).lean();

    const response = await post({ events: [{ event: 'delivered', message }] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ outcomes: ['applied'] });

    const record: Json = await emailStatus(h, id);
    expect(record.deliveries.email.status).toBe('delivered');
    expect(record.history.at(-1)).toMatchObject({ status: 'delivered', source: 'webhook:sendgrid' });
    const delivered = await waitFor(
      async () => {
        const all: Json[] = await h.drain(updated);
        return all.find(
          (event) => event.payload.notificationId === id && event.payload.change.status === 'delivered',
        );
      },
      { description: 'notification.updated for delivered' },
    );
    expect(delivered.payload).toMatchObject({
      userId,
      change: { kind: 'status', channel: 'email', status: 'delivered' },
    });
    expect(delivered.correlationId).toBe(stored!.correlationId);
  });

  it('rejects a bad, foreign, missing or stale signature with 403 and no detail, changing nothing', async () => {
    const id = await createEmail();
    const message = await sendThroughSendGrid(id, email);
    const before: Json = await emailStatus(h, id);

    const genuine = sendgrid.signedWebhook({ events: [{ event: 'delivered', message }] });
    const tampered = { body: genuine.body.replace('"delivered"', '"bounce"'), headers: genuine.headers };
    const foreign = new FakeSendGrid().signedWebhook({ events: [{ event: 'delivered', message }] });
    const unsigned = { body: genuine.body, headers: { 'content-type': 'application/json' } };
    const garbled = {
      body: genuine.body,
      headers: { ...genuine.headers, 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' },
    };
    for (const { body, headers } of [tampered, foreign, unsigned, garbled]) {
      const response = await h.request('POST', WebhookPaths.sendgrid, { body, headers });
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
      expect(response.json().detail).toBe('The webhook is not signed correctly');
    }

    const stale = await post({
      events: [{ event: 'delivered', message }],
      timestamp: new Date(Date.now() - 10 * 60_000),
    });
    expect(stale.statusCode).toBe(403);
    expect(await emailStatus(h, id)).toEqual(before);
  });

  it('answers 403, not 400, to an unsigned body that fails the schema', async () => {
    for (const body of ['{"not":"an array"}', '[{"event":1}]', '[not json']) {
      const response = await h.request('POST', WebhookPaths.sendgrid, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().detail).toBe('The webhook is not signed correctly');
      expect(JSON.stringify(response.json())).not.toMatch(/sg_event_id|must have/);
    }
  });

  it('changes nothing for a replayed sg_event_id, even signed afresh', async () => {
    const id = await createEmail();
    const message = await sendThroughSendGrid(id, email);
    const openedAt = new Date(Math.floor(Date.now() / 1000) * 1000);

    const first = await post({
      events: [{ event: 'open', message, sgEventId: 'open-1', timestamp: openedAt }],
    });
    expect(first.json()).toEqual({ outcomes: ['applied'] });
    const afterFirst: Json = await emailStatus(h, id);
    expect(afterFirst.engagement.openedAt).toEqual(openedAt);

    // The same event again (SendGrid retrying the batch), reporting an earlier time that a
    // fresh open would record: the event id was seen, so nothing moves.
    const replay = await post({
      events: [
        { event: 'open', message, sgEventId: 'open-1', timestamp: new Date(openedAt.getTime() - 60_000) },
      ],
    });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ outcomes: ['ignored'] });
    expect(await emailStatus(h, id)).toEqual(afterFirst);
  });

  it('suppresses nothing for a bounce about a message we never reported sending', async () => {
    const address = 'never-sent@example.com';
    const id = await createEmail(address);
    // SendGrid took it and echoes our notification id, but the worker never reported this send.
    const message = await sendThroughSendGrid(id, address, { reportSent: false });

    const response = await post({
      events: [{ event: 'bounce', message, reason: '550 5.1.1 no such user', status: '5.1.1' }],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ outcomes: ['pending'] });
    expect(await suppressionsOf(address)).toBe(0);
    expect((await emailStatus(h, id)).deliveries.email.status).toBe('queued');
    expect(await h.models.pendingEvents.countDocuments({ providerMessageId: message.messageId })).toBe(1);
  });

  it('marks a hard bounce of our message bounced and suppresses its address; a deferral changes nothing', async () => {
    const address = 'Bouncy-SG@Example.com';
    const id = await createEmail(address);
    const message = await sendThroughSendGrid(id, address);

    const response = await post({
      events: [
        { event: 'deferred', message, reason: '421 try later' },
        { event: 'bounce', message, reason: '550 5.1.1 no such user', status: '5.1.1' },
      ],
    });
    expect(response.json()).toEqual({ outcomes: ['ignored', 'applied'] });
    const record: Json = await emailStatus(h, id);
    expect(record.deliveries.email).toMatchObject({ status: 'bounced', reason: '550 5.1.1 no such user' });
    expect(record.history.map((entry: Json) => entry.status)).toEqual(['queued', 'sent', 'bounced']);
    expect(await h.models.suppressions.findById(address.toLowerCase()).lean()).toMatchObject({
      reason: 'bounced',
      provider: 'sendgrid',
      notificationId: id,
    });
  });

  it("mutes the category's email for a group unsubscribe by a recipient, and suppresses the address for a global one", async () => {
    // a recipient of its own: the others here must stay unmuted
    const leaver = await h.registerUser();
    const sent = await h.request('POST', '/api/v1/notifications', {
      token: h.token(ADMIN_ID, 'admin'),
      body: { title: 'News', body: 'Hi', recipient: { userId: leaver.userId }, channels: ['email'] },
    });
    const grouped = sent.json().id as string;
    const fromGroup = await sendThroughSendGrid(grouped, leaver.email);
    expect((await post({ events: [{ event: 'group_unsubscribe', message: fromGroup }] })).json()).toEqual({
      outcomes: ['applied'],
    });
    const preferences = (
      await h.request('GET', '/api/v1/preferences', { token: h.token(leaver.userId) })
    ).json();
    expect(preferences.categories).toEqual({ general: { email: false } });
    expect(preferences.changes[0]).toMatchObject({ by: 'sendgrid', byKind: 'provider' });
    expect(await suppressionsOf(leaver.email)).toBe(0);

    // SendGrid drops every later email to a globally unsubscribed address itself: suppressed here too
    const outside = 'leaver-sg@example.com';
    const global = await createEmail(outside);
    const fromGlobal = await sendThroughSendGrid(global, outside);
    await post({ events: [{ event: 'unsubscribe', message: fromGlobal }] });
    expect(await h.models.suppressions.findById(outside).lean()).toMatchObject({
      reason: 'unsubscribed',
      provider: 'sendgrid',
    });
  });

  it('answers 503 and accepts nothing when no public key is configured', async () => {
    const bare = await startHarness('notif-webhooks-sg-off');
    try {
      const id = await createEmail();
      const message = await sendThroughSendGrid(id, email);
      const { body, headers } = sendgrid.signedWebhook({ events: [{ event: 'delivered', message }] });
      const response = await bare.request('POST', WebhookPaths.sendgrid, { body, headers });
      expect(response.statusCode).toBe(503);
      expect((await emailStatus(h, id)).deliveries.email.status).toBe('sent');
    } finally {
      await bare.close();
    }
  });
});
