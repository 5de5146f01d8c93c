import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { FakeSendGrid, type RecordedRequest } from '../src';

/** Captures posted webhooks: the raw body and headers as a receiver sees them. */
async function startReceiver() {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { received, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The check SendGrid documents: ECDSA P-256/SHA-256 over `timestamp + body`, key base64 DER SPKI. */
function isSignedBy(publicKeyBase64: string, timestamp: string, body: string, signature: string): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
  return verify(
    'sha256',
    Buffer.from(timestamp + body, 'utf8'),
    { key, dsaEncoding: 'der' },
    Buffer.from(signature, 'base64'),
  );
}

describe("the fake SendGrid's Event Webhook", () => {
  let fake: FakeSendGrid;

  beforeEach(async () => {
    fake = await FakeSendGrid.start();
  });
  afterEach(() => fake.close());

  async function send(): Promise<RecordedRequest> {
    const response = await fetch(`${fake.url}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'ada@example.com' }] }],
        from: { email: 'noreply@example.com' },
        subject: 'Hello',
        content: [{ type: 'text/plain', value: 'Hi' }],
        custom_args: { herald_notification_id: 'n-1', herald_channel: 'email' },
      }),
    });
    expect(response.status).toBe(202);
    return fake.findMessage(response.headers.get('x-message-id')!)!;
  }

  it('posts a JSON array of events signed with its P-256 key over timestamp and body', async () => {
    const message = await send();
    const receiver = await startReceiver();
    try {
      const response = await fake.sendWebhook(`${receiver.url}/hooks/sendgrid`, {
        events: [
          { event: 'delivered', message },
          { event: 'bounce', message, reason: '550 no such user', status: '5.1.1' },
        ],
      });
      expect(response.status).toBe(200);
      const { headers, body } = receiver.received[0]!;
      const signature = String(headers['x-twilio-email-event-webhook-signature']);
      const timestamp = String(headers['x-twilio-email-event-webhook-timestamp']);
      expect(headers['content-type']).toBe('application/json');
      expect(isSignedBy(fake.webhookPublicKey, timestamp, body, signature)).toBe(true);
      expect(isSignedBy(fake.webhookPublicKey, timestamp, body.replace('5.1.1', '5.1.2'), signature)).toBe(
        false,
      );
      expect(isSignedBy(new FakeSendGrid().webhookPublicKey, timestamp, body, signature)).toBe(false);

      const events = JSON.parse(body) as Record<string, unknown>[];
      expect(events).toEqual([
        expect.objectContaining({
          event: 'delivered',
          email: 'ada@example.com',
          sg_message_id: expect.stringMatching(new RegExp(`^${message.messageId}\\.`)),
          herald_notification_id: 'n-1',
          herald_channel: 'email',
        }),
        expect.objectContaining({
          event: 'bounce',
          type: 'bounce',
          reason: '550 no such user',
          status: '5.1.1',
        }),
      ]);
      expect(events[0]!.sg_event_id).not.toEqual(events[1]!.sg_event_id);
    } finally {
      await receiver.close();
    }
  });

  it('exposes the verification key as SendGrid shows it: base64 DER SPKI of a P-256 key', () => {
    const key = createPublicKey({
      key: Buffer.from(fake.webhookPublicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('signs with a given private key, so a deployment can know the public key in advance', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pinned = new FakeSendGrid({
      webhookPrivateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    });
    const expected = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(pinned.webhookPublicKey).toBe(expected);
    const message = await send();
    const { body, headers } = pinned.signedWebhook({ events: [{ event: 'delivered', message }] });
    expect(
      isSignedBy(
        expected,
        headers['x-twilio-email-event-webhook-timestamp']!,
        body,
        headers['x-twilio-email-event-webhook-signature']!,
      ),
    ).toBe(true);
  });

  it('posts a signed event over its control API', async () => {
    const message = await send();
    const receiver = await startReceiver();
    try {
      const answer = await fetch(`${fake.url}/__fake/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messageId: message.messageId, event: 'open', url: receiver.url }),
      });
      expect(await answer.json()).toEqual({ webhookStatus: 200 });
      const { headers, body } = receiver.received[0]!;
      expect(
        isSignedBy(
          fake.webhookPublicKey,
          String(headers['x-twilio-email-event-webhook-timestamp']),
          body,
          String(headers['x-twilio-email-event-webhook-signature']),
        ),
      ).toBe(true);
      expect(JSON.parse(body)).toEqual([expect.objectContaining({ event: 'open' })]);
    } finally {
      await receiver.close();
    }
  });
});
