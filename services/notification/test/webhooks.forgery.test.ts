import { MessageTypes, createMessage } from '@herald/contracts';
import { FakeMailgun, FakeTwilio, twilioSignature, type RecordedRequest } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';
import { postMailgun, reportSent, sendThroughMailgun, untilEmailStatus } from './webhook-helpers';

const PUBLIC_BASE_URL = 'https://herald.example.com';
const TWILIO_URL = `${PUBLIC_BASE_URL}/api/v1/webhooks/twilio`;
/** A notification id nobody created: what a forger echoes back. */
const NO_SUCH_NOTIFICATION = 'aaaaaaaaaaaaaaaaaaaaaaaa';

/*
 * Provider webhooks from someone who is not the provider, or signed events
 * about messages we never sent (issue 16): the signature comes before
 * anything else, and only a message of ours suppresses an address, its own.
 */
describe('forged and foreign provider webhooks', () => {
  let h: Harness;
  let mailgun: FakeMailgun;
  let twilio: FakeTwilio;

  beforeAll(async () => {
    mailgun = await FakeMailgun.start({ webhookSigningKey: 'mg-signing-key-for-tests' });
    twilio = await FakeTwilio.start({ authToken: 'twilio-token-for-tests' });
    h = await startHarness('notif-webhooks-forgery', {
      settings: {
        mailgunWebhookSigningKey: mailgun.webhookSigningKey,
        twilioAuthToken: twilio.authToken,
        publicBaseUrl: PUBLIC_BASE_URL,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await mailgun.close();
    await twilio.close();
  });

  const suppressed = async () =>
    (await h.models.suppressions.find({}, { _id: 1 }).lean()).map((entry) => entry._id).sort();

  /** An email notification to an outside address, accepted; its id. */
  async function emailTo(address: string): Promise<string> {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token('root', 'admin'),
      body: { title: 'Receipt', body: 'Thanks', recipient: { email: address }, channels: ['email'] },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  const bounceOf = (message: RecordedRequest) =>
    mailgun.webhookBody({
      event: 'failed',
      severity: 'permanent',
      reason: 'bounce',
      deliveryStatus: { code: 550, message: 'No such user' },
      message,
    }) as Json;

  /** A problem that says only that the webhook is not signed: no schema, no fields. */
  const notSigned = (status: number) => ({
    type: 'urn:herald:problem:webhook_rejected',
    title: expect.any(String),
    status,
    code: 'webhook_rejected',
    detail: 'The webhook is not signed correctly',
    instance: expect.any(String),
    requestId: expect.any(String),
  });

  describe('Mailgun', () => {
    it('answers every unsigned body 406 with no detail, before looking at its schema', async () => {
      const signed = bounceOf(
        await sendThroughMailgun(h, mailgun, NO_SUCH_NOTIFICATION, 'x@example.org', { reportSent: false }),
      );
      const wrongSignature = { ...signed, signature: { ...signed.signature, signature: '00'.repeat(32) } };
      const bodies: unknown[] = [
        {},
        { 'event-data': { event: 'failed' } },
        { signature: { timestamp: '1', token: 't', signature: 'x' }, 'event-data': {} },
        { ...wrongSignature, 'event-data': { id: 42 } },
        wrongSignature,
      ];
      for (const body of bodies) {
        const response = await postMailgun(h, body as Record<string, unknown>);
        expect({ body, status: response.statusCode }).toEqual({ body, status: 406 });
        expect(response.headers['content-type']).toMatch(/problem\+json/);
        expect(response.json()).toEqual(notSigned(406));
      }
      const malformed = await h.request('POST', '/api/v1/webhooks/mailgun', {
        body: '{"signature": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.statusCode).toBe(406);
      expect(malformed.json()).toEqual(notSigned(406));
      expect(await suppressed()).toEqual([]);
    });

    it('answers a signed body that fails the schema 406 webhook_invalid, naming the fields', async () => {
      const message = await sendThroughMailgun(h, mailgun, NO_SUCH_NOTIFICATION, 'y@example.org', {
        reportSent: false,
      });
      const body = mailgun.webhookBody({ event: 'delivered', message }) as Json;
      delete body['event-data'].id;
      const response = await postMailgun(h, body);
      expect(response.statusCode).toBe(406);
      expect(response.json()).toMatchObject({
        code: 'webhook_invalid',
        errors: [{ field: '/body/event-data/id' }],
      });
    });

    it('suppresses nothing for a signed bounce or complaint about a message we never sent', async () => {
      // Sent through the provider by someone else, naming no notification of ours, or naming one.
      const foreign = await sendThroughMailgun(h, mailgun, NO_SUCH_NOTIFICATION, 'victim@example.org', {
        reportSent: false,
      });
      const ours = await emailTo('customer@example.org');
      const echoing = await sendThroughMailgun(h, mailgun, ours, 'victim2@example.org', {
        reportSent: false,
      });
      const events = [
        bounceOf(foreign),
        mailgun.webhookBody({ event: 'complained', message: foreign }),
        mailgun.webhookBody({ event: 'unsubscribed', message: foreign }),
        bounceOf(echoing),
      ];
      for (const event of events) {
        const response = await postMailgun(h, event);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ outcome: 'pending' });
      }
      expect(await suppressed()).toEqual([]);
      const record: Json = await h.models.notifications.findById(ours).lean();
      expect(record.deliveries.email.status).toBe('queued');
    });

    it("suppresses the notification's own address once the event matches a message we sent", async () => {
      // Reported before the worker's `sent`: kept, then applied when it arrives.
      const early = await emailTo('early@example.org');
      const earlyMessage = await sendThroughMailgun(h, mailgun, early, 'early@example.org', {
        reportSent: false,
      });
      expect((await postMailgun(h, bounceOf(earlyMessage))).json()).toEqual({ outcome: 'pending' });
      expect(await suppressed()).toEqual([]);
      await reportSent(h, early, earlyMessage.messageId!);
      await untilEmailStatus(h, early, 'bounced');
      await waitFor(async () => (await suppressed()).includes('early@example.org'), {
        description: 'the pending bounce suppressing the address',
      });

      // A matched event naming another recipient suppresses ours, not the one it names.
      const id = await emailTo('mine@example.org');
      const message = await sendThroughMailgun(h, mailgun, id, 'mine@example.org');
      await untilEmailStatus(h, id, 'sent');
      const bounce = bounceOf(message);
      bounce['event-data'].recipient = 'someone-else@example.org';
      expect((await postMailgun(h, bounce)).json()).toEqual({ outcome: 'applied' });
      expect(await suppressed()).toEqual(['early@example.org', 'mine@example.org']);
      const entry = await h.models.suppressions.findById('mine@example.org').lean();
      expect(entry).toMatchObject({ reason: 'bounced', provider: 'mailgun', notificationId: id });
    });
  });

  describe('Twilio', () => {
    const post = (params: Record<string, string>, signature?: string) =>
      h.request('POST', '/api/v1/webhooks/twilio', {
        body: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}),
        },
      });

    async function sendThroughTwilio(to: string): Promise<RecordedRequest> {
      const response = await fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          To: to,
          From: '+15005550006',
          Body: 'hi',
          StatusCallback: TWILIO_URL,
        }).toString(),
      });
      const { sid } = (await response.json()) as { sid: string };
      return twilio.requests.find((request) => request.messageId === sid)!;
    }

    it('answers every unsigned callback 403 with no detail, before looking at its schema', async () => {
      const cases: [Record<string, string>, string | undefined][] = [
        [{ MessageStatus: 'failed' }, undefined],
        [{ MessageStatus: 'failed' }, 'bm90IGEgc2lnbmF0dXJl'],
        [
          { MessageSid: 'SM1', MessageStatus: 'delivered' },
          twilioSignature('not-ours', TWILIO_URL, { MessageSid: 'SM1', MessageStatus: 'delivered' }),
        ],
        [{}, 'x'.repeat(500)],
      ];
      for (const [params, signature] of cases) {
        const response = await post(params, signature);
        expect({ params, status: response.statusCode }).toEqual({ params, status: 403 });
        expect(response.json()).toEqual(notSigned(403));
      }
      const json = await h.request('POST', '/api/v1/webhooks/twilio', {
        body: { MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: 21610 },
      });
      expect(json.statusCode).toBe(403);
      expect(json.json()).toEqual(notSigned(403));
    });

    it('acknowledges and ignores a signed callback that fails the schema', async () => {
      const params = { MessageStatus: 'delivered', AccountSid: twilio.accountSid };
      const response = await post(params, twilioSignature(twilio.authToken, TWILIO_URL, params));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ outcome: 'ignored' });
    });

    it('suppresses nothing for a signed 21610 about a message we never sent, and our own number once matched', async () => {
      const foreign = await sendThroughTwilio('+14155550150');
      const forged = twilio.callbackParams({ message: foreign, status: 'undelivered', errorCode: 21610 });
      const response = await post(forged, twilioSignature(twilio.authToken, TWILIO_URL, forged));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ outcome: 'pending' });
      expect(await suppressed()).not.toContain('+14155550150');

      const created = await h.request('POST', '/api/v1/notifications', {
        token: h.token('root', 'admin'),
        body: { title: 'Code', body: '123456', recipient: { phone: '+14155550151' }, channels: ['sms'] },
      });
      const id = created.json().id as string;
      const message = await sendThroughTwilio('+14155550151');
      await h.publishEvent(
        'delivery.status',
        createMessage(
          MessageTypes.deliveryStatus,
          {
            notificationId: id,
            channel: 'sms',
            status: 'sent',
            attempt: 1,
            at: new Date().toISOString(),
            provider: 'twilio',
            providerMessageId: message.messageId!,
          },
          { correlationId: 'worker-test' },
        ),
      );
      await waitFor(
        async () =>
          ((await h.models.notifications.findById(id).lean()) as Json)?.deliveries.sms.status === 'sent',
        { description: 'sent' },
      );
      const stop = {
        ...twilio.callbackParams({ message, status: 'undelivered', errorCode: 21610 }),
        To: '+14155550152',
      };
      const matched = await post(stop, twilioSignature(twilio.authToken, TWILIO_URL, stop));
      expect(matched.json()).toEqual({ outcome: 'applied' });
      const numbers = await suppressed();
      expect(numbers).toContain('+14155550151');
      expect(numbers).not.toContain('+14155550152');
      expect(numbers).not.toContain('+14155550150');
    });
  });
});
