import { MessageTypes, createMessage } from '@herald/contracts';
import {
  FakeTwilio,
  twilioSignature,
  type RecordedRequest,
  type TwilioCallbackInput,
} from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

const PUBLIC_BASE_URL = 'https://herald.example.com';
const CALLBACK_URL = `${PUBLIC_BASE_URL}/api/v1/webhooks/twilio`;

describe('Twilio status callbacks', () => {
  let h: Harness;
  let twilio: FakeTwilio;
  let userId: string;
  const phone = '+14155550123';

  beforeAll(async () => {
    twilio = await FakeTwilio.start({ authToken: 'twilio-token-for-tests' });
    h = await startHarness('notif-webhooks-twilio', {
      settings: { twilioAuthToken: twilio.authToken, publicBaseUrl: PUBLIC_BASE_URL },
    });
    userId = (await h.registerUser({ phone })).userId;
  });
  afterAll(async () => {
    await h.close();
    await twilio.close();
  });

  async function createSms(): Promise<string> {
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(userId),
      body: { title: 'Code', body: 'Your code is 123456', recipient: { userId }, channels: ['sms'] },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  /** The worker's part: the message sent through the fake Twilio, with our public callback URL. */
  async function sendThroughTwilio(): Promise<RecordedRequest> {
    const response = await fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        To: phone,
        From: '+15005550006',
        Body: 'hi',
        StatusCallback: CALLBACK_URL,
      }).toString(),
    });
    const { sid } = (await response.json()) as { sid: string };
    return twilio.requests.find((request) => request.messageId === sid)!;
  }

  async function reportSent(id: string, sid: string) {
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
          providerMessageId: sid,
        },
        { correlationId: 'worker-test' },
      ),
    );
  }

  /** A callback exactly as the fake signs it, posted to the app as the gateway forwards it. */
  function callback(input: TwilioCallbackInput, signedUrl = CALLBACK_URL) {
    const params = twilio.callbackParams(input);
    return h.request('POST', '/api/v1/webhooks/twilio', {
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(twilio.authToken, signedUrl, params),
      },
    });
  }

  const record = async (id: string): Promise<Json> => h.stored(id);

  it('keeps a callback for an unknown sid and applies it once the worker reports sent', async () => {
    const id = await createSms();
    const message = await sendThroughTwilio();

    const early = await callback({ message, status: 'delivered' });
    expect(early.statusCode).toBe(200);
    expect(early.json()).toEqual({ outcome: 'pending' });
    expect((await record(id)).deliveries.sms.status).toBe('queued');

    await reportSent(id, message.messageId!);
    const done: Json = await waitFor(
      async () => {
        const current: Json = await record(id);
        return current.deliveries.sms.status === 'delivered' ? current : undefined;
      },
      { description: 'the pending delivered applied' },
    );
    expect(done.history.map((entry: Json) => [entry.status, entry.source])).toEqual([
      ['queued', 'api'],
      ['sent', 'worker:twilio'],
      ['delivered', 'webhook:twilio'],
    ]);
    // Forgotten once applied (just after the status write the test saw).
    await waitFor(
      async () =>
        (await h.models.pendingEvents.countDocuments({ providerMessageId: message.messageId })) === 0,
      { description: 'the pending event removed' },
    );
  });

  it('verifies the signature over the public URL, not the internal one', async () => {
    const id = await createSms();
    const message = await sendThroughTwilio();
    await reportSent(id, message.messageId!);
    await waitFor(async () => (await record(id)).deliveries.sms.status === 'sent', { description: 'sent' });

    const internal = await callback(
      { message, status: 'delivered' },
      'http://localhost/api/v1/webhooks/twilio',
    );
    expect(internal.statusCode).toBe(403);
    const otherToken = new FakeTwilio({ authToken: 'not-ours' });
    const params = otherToken.callbackParams({ message, status: 'delivered' });
    const forged = await h.request('POST', '/api/v1/webhooks/twilio', {
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature('not-ours', CALLBACK_URL, params),
      },
    });
    expect(forged.statusCode).toBe(403);
    expect((await record(id)).deliveries.sms.status).toBe('sent');

    // A failure after Twilio accepted the message is a bounce; a late `sent` does not undo it.
    expect((await callback({ message, status: 'undelivered', errorCode: 30003 })).json()).toEqual({
      outcome: 'applied',
    });
    expect((await callback({ message, status: 'sent' })).json()).toEqual({ outcome: 'ignored' });
    expect((await record(id)).deliveries.sms).toMatchObject({
      status: 'bounced',
      reason: 'Twilio reported undelivered',
    });
  });
});
