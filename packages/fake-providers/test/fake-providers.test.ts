import type MailgunClass from 'mailgun.js' with { 'resolution-mode': 'import' };
import twilio from 'twilio';
import { WebhookPaths } from '@herald/contracts';
import {
  FakeMailgun,
  FakeTwilio,
  field,
  isValidMailgunSignature,
  twilioSignature,
  type MailgunSignatureBlock,
} from '../src';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

// mailgun.js publishes its types as ESM only; at run time its CommonJS build loads fine.
const Mailgun = require('mailgun.js') as typeof MailgunClass;

type TwilioRequest<T> = Parameters<twilio.RequestClient['request']>[0] & { data?: T };

/** A Twilio client whose requests go to `baseUrl` instead of api.twilio.com. */
function twilioClientFor(fake: FakeTwilio, timeout = 2_000) {
  class LocalRequestClient extends twilio.RequestClient {
    override request<T>(opts: TwilioRequest<T>) {
      const target = new URL(opts.uri);
      return super.request<T>({ ...opts, uri: `${fake.url}${target.pathname}${target.search}` });
    }
  }
  return twilio(fake.accountSid, fake.authToken, { httpClient: new LocalRequestClient({ timeout }) });
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Captures posted webhooks: the raw body, headers and URL as a receiver sees them. */
async function startReceiver() {
  const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ url: request.url ?? '/', headers: request.headers, body });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { received, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the fake Mailgun, driven by mailgun.js', () => {
  let fake: FakeMailgun;
  // generous by default (a loaded machine answers slowly); short only where a test waits for the timeout
  const client = (timeout = 10_000) =>
    new Mailgun(FormData).client({ username: 'api', key: fake.apiKey, url: fake.url, timeout });

  beforeEach(async () => {
    fake = await FakeMailgun.start();
  });
  afterEach(() => fake.close());

  it('accepts a message, records every field and answers like Mailgun', async () => {
    const answer = await client().messages.create('mg.example.com', {
      from: 'Herald <noreply@mg.example.com>',
      to: ['ada@example.com'],
      subject: 'Hello',
      text: 'Hi Ada',
      html: '<p>Hi Ada</p>',
      'o:tag': ['welcome', 'onboarding'],
      'v:notification-id': 'n-1',
    });
    expect(answer.status).toBe(200);
    expect(answer.message).toBe('Queued. Thank you.');
    expect(answer.id).toMatch(/^<\d{14}\.[0-9a-f]{16}@mg\.example\.com>$/);

    expect(fake.accepted).toHaveLength(1);
    const [request] = fake.accepted;
    expect(request!.path).toBe('/v3/mg.example.com/messages');
    expect(request!.recipient).toBe('ada@example.com');
    expect(request!.messageId).toBe(answer.id);
    expect(request!.fields).toMatchObject({
      from: ['Herald <noreply@mg.example.com>'],
      to: ['ada@example.com'],
      subject: ['Hello'],
      text: ['Hi Ada'],
      html: ['<p>Hi Ada</p>'],
      'o:tag': ['welcome', 'onboarding'],
      'v:notification-id': ['n-1'],
    });
  });

  it('refuses a wrong API key with 401', async () => {
    const wrong = new Mailgun(FormData).client({ username: 'api', key: 'nope', url: fake.url });
    await expect(
      wrong.messages.create('mg.example.com', { from: 'a@b.co', to: ['c@d.co'], text: 'x' }),
    ).rejects.toMatchObject({ status: 401 });
    expect(fake.requests).toHaveLength(0);
  });

  it('fails the next N requests, then recovers', async () => {
    fake
      .failNext(1, 'server_error')
      .failNext(1, 'rate_limited')
      .failNext(1, { status: 400, message: 'bad to' });
    const send = () =>
      client().messages.create('mg.example.com', { from: 'a@b.co', to: ['c@d.co'], text: 'x' });
    await expect(send()).rejects.toMatchObject({ status: 503 });
    await expect(send()).rejects.toMatchObject({ status: 429 });
    await expect(send()).rejects.toMatchObject({ status: 400, details: 'bad to' });
    await expect(send()).resolves.toMatchObject({ status: 200 });
    expect(fake.requests.map((request) => request.outcome)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'accepted',
    ]);
  });

  it('fails for one recipient only, and can hold a request until the client times out', async () => {
    fake.failFor('bad@example.com', 'timeout');
    const send = (to: string, timeout?: number) =>
      client(timeout).messages.create('mg.example.com', { from: 'a@b.co', to: [to], text: 'x' });
    await expect(send('good@example.com')).resolves.toMatchObject({ status: 200 });
    await expect(send('bad@example.com', 300)).rejects.toMatchObject({
      status: 400,
      message: 'ECONNABORTED',
    });
    // the fake sees the client hang up a moment after the client gave up
    await until(() => fake.requests[1]?.outcome === 'aborted');
    expect(fake.requests.map((request) => request.outcome)).toEqual(['accepted', 'aborted']);
  });

  it('signs webhooks with HMAC-SHA256 over timestamp and token, like Mailgun', async () => {
    await client().messages.create('mg.example.com', {
      from: 'a@b.co',
      to: ['c@d.co'],
      text: 'x',
      'v:notification-id': 'n-9',
      'v:channel': 'email',
    });
    const receiver = await startReceiver();
    try {
      const response = await fake.sendWebhook(`${receiver.url}/hooks/mailgun`, {
        event: 'failed',
        message: fake.accepted[0]!,
        severity: 'permanent',
        reason: 'bounce',
      });
      expect(response.status).toBe(200);
      const body = JSON.parse(receiver.received[0]!.body) as {
        signature: MailgunSignatureBlock;
        'event-data': Record<string, unknown> & { message: { headers: Record<string, string> } };
      };
      expect(isValidMailgunSignature(fake.webhookSigningKey, body.signature)).toBe(true);
      expect(isValidMailgunSignature('another key', body.signature)).toBe(false);
      expect(body['event-data']).toMatchObject({
        event: 'failed',
        severity: 'permanent',
        recipient: 'c@d.co',
        'user-variables': { 'notification-id': 'n-9', channel: 'email' },
      });
      expect(`<${body['event-data'].message.headers['message-id']}>`).toBe(fake.accepted[0]!.messageId);
    } finally {
      await receiver.close();
    }
  });
});

describe('the fake Twilio, driven by the twilio client', () => {
  let fake: FakeTwilio;

  beforeEach(async () => {
    fake = await FakeTwilio.start();
  });
  afterEach(() => fake.close());

  it('creates a message and answers with a Message resource', async () => {
    const message = await twilioClientFor(fake).messages.create({
      to: '+15005550006',
      from: '+15005550001',
      body: 'Your code is 123456',
      statusCallback: `https://herald.example.com${WebhookPaths.twilio}`,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message.to).toBe('+15005550006');
    expect(message.body).toBe('Your code is 123456');
    expect(fake.accepted[0]!.fields).toMatchObject({
      To: ['+15005550006'],
      From: ['+15005550001'],
      Body: ['Your code is 123456'],
      StatusCallback: [`https://herald.example.com${WebhookPaths.twilio}`],
    });
  });

  it('answers injected Twilio errors with their code, which the client surfaces', async () => {
    fake.failFor('+15005550009', { status: 400, code: 21211 });
    fake.failNext(1, 'rate_limited');
    const client = twilioClientFor(fake);
    await expect(
      client.messages.create({ to: '+15005550009', from: '+15005550001', body: 'x' }),
    ).rejects.toMatchObject({
      status: 400,
      code: 21211,
    });
    await expect(
      client.messages.create({ to: '+15005550006', from: '+15005550001', body: 'x' }),
    ).rejects.toMatchObject({
      status: 429,
      code: 20429,
    });
    await expect(
      client.messages.create({ to: '+15005550006', messagingServiceSid: 'MG' + '1'.repeat(32), body: 'x' }),
    ).resolves.toMatchObject({ status: 'queued' });
  });

  it('refuses wrong credentials with 401 / 20003', async () => {
    const wrong = twilio(fake.accountSid, 'wrong', {
      httpClient: twilioClientFor(fake).httpClient,
    });
    await expect(
      wrong.messages.create({ to: '+15005550006', from: '+15005550001', body: 'x' }),
    ).rejects.toMatchObject({
      status: 401,
      code: 20003,
    });
  });

  it('signs status callbacks so that twilio.validateRequest accepts them', async () => {
    const receiver = await startReceiver();
    try {
      const callbackUrl = `${receiver.url}${WebhookPaths.twilio}?source=test`;
      await twilioClientFor(fake).messages.create({
        to: '+15005550006',
        from: '+15005550001',
        body: 'x',
        statusCallback: callbackUrl,
      });
      const response = await fake.sendWebhook({
        message: fake.accepted[0]!,
        status: 'undelivered',
        errorCode: 30005,
      });
      expect(response.status).toBe(200);

      const [posted] = receiver.received;
      const params = Object.fromEntries(new URLSearchParams(posted!.body));
      const signature = posted!.headers['x-twilio-signature'] as string;
      expect(params).toMatchObject({
        MessageSid: fake.accepted[0]!.messageId,
        MessageStatus: 'undelivered',
        ErrorCode: '30005',
      });
      expect(twilio.validateRequest(fake.authToken, signature, callbackUrl, params)).toBe(true);
      expect(twilio.validateRequest('other-token', signature, callbackUrl, params)).toBe(false);
      expect(signature).toBe(twilioSignature(fake.authToken, callbackUrl, params));
      expect(field(fake.accepted[0]!, 'StatusCallback')).toBe(callbackUrl);
    } finally {
      await receiver.close();
    }
  });
});

describe('the control API, for a fake in its own process', () => {
  it('reports stats, injects failures, sends webhooks and resets over HTTP', async () => {
    const fake = await FakeMailgun.start({ maxRecorded: 2 });
    const receiver = await startReceiver();
    const control = (path: string, body?: object) =>
      fetch(`${fake.url}/__fake/${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
    try {
      const client = new Mailgun(FormData).client({ username: 'api', key: fake.apiKey, url: fake.url });
      const send = (to: string) =>
        client.messages.create('mg.example.com', { from: 'a@b.co', to: [to], text: 'x' });
      for (const to of ['a@x.co', 'b@x.co', 'c@x.co']) await send(to);
      expect((await control('fail-next', { count: 1, kind: 'server_error' })).status).toBe(204);
      await expect(send('d@x.co')).rejects.toMatchObject({ status: 503 });

      expect(await (await control('stats')).json()).toEqual({
        total: 4,
        accepted: 3,
        rejected: 1,
        held: 0,
        aborted: 0,
        disconnected: 0,
      });
      const recent = (await (await control('requests?limit=5')).json()) as { recipient: string }[];
      expect(recent.map((request) => request.recipient)).toEqual(['c@x.co', 'd@x.co']);

      const messageId = fake.requests[0]!.messageId!;
      const webhook = await control('webhook', {
        messageId,
        event: 'delivered',
        url: `${receiver.url}/hook`,
      });
      expect(await webhook.json()).toEqual({ webhookStatus: 200 });
      const posted = JSON.parse(receiver.received[0]!.body) as { signature: MailgunSignatureBlock };
      expect(isValidMailgunSignature(fake.webhookSigningKey, posted.signature)).toBe(true);

      await control('reset', {});
      expect(((await (await control('stats')).json()) as { total: number }).total).toBe(0);
    } finally {
      await receiver.close();
      await fake.close();
    }
  });
});
