import type MailgunClass from 'mailgun.js' with { 'resolution-mode': 'import' };
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { FakeMailgun, FakeTwilio } from '@herald/fake-providers';
import { MailgunProvider } from '../src/providers/mailgun';
import { TwilioProvider } from '../src/providers/twilio';
import { emailJob, smsJob } from './harness';

describe('the providers, against the fakes', () => {
  let mailgun: FakeMailgun;
  let twilio: FakeTwilio;

  beforeAll(async () => {
    [mailgun, twilio] = await Promise.all([FakeMailgun.start(), FakeTwilio.start()]);
  });
  afterAll(() => Promise.all([mailgun.close(), twilio.close()]));

  it('sends SMS through a Messaging Service when one is configured, without a From', async () => {
    const provider = new TwilioProvider({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: '+15005550001',
      messagingServiceSid: `MG${'a'.repeat(32)}`,
      apiUrl: twilio.url,
      statusCallbackUrl: 'https://herald.example.com/api/v1/webhooks/twilio',
      timeoutMs: 1_000,
    });
    const job = smsJob({ content: { text: 'Only the long text' } });
    const { providerMessageId } = await provider.send(job);
    const request = twilio.findMessage(providerMessageId)!;
    expect(request.fields.MessagingServiceSid).toEqual([`MG${'a'.repeat(32)}`]);
    expect(request.fields.From).toBeUndefined();
    expect(request.fields.Body).toEqual(['Only the long text']);
  });

  it('gives an email without a subject its first line, and keeps reserved variables ours', async () => {
    const provider = new MailgunProvider({
      apiKey: mailgun.apiKey,
      domain: 'mg.example.com',
      url: mailgun.url,
      from: 'Herald <noreply@mg.example.com>',
      timeoutMs: 1_000,
    });
    const job = emailJob({
      recipient: { email: 'plain@example.com' },
      content: { text: 'Your export finished\nDownload it within 7 days.' },
      metadata: { 'notification-id': 'forged', campaign: 'q3' },
      template: { key: 'export-ready', data: {} },
    });
    const { providerMessageId } = await provider.send(job);
    const request = mailgun.findMessage(providerMessageId)!;
    expect(request.fields).toMatchObject({
      to: ['plain@example.com'],
      subject: ['Your export finished'],
      'o:tag': ['export-ready'],
      'v:notification-id': [job.notificationId],
      'v:campaign': ['q3'],
    });
    expect(request.fields.html).toBeUndefined();
  });

  it('encodes a message exactly as mailgun.js does with the platform FormData', async () => {
    const provider = new MailgunProvider({
      apiKey: mailgun.apiKey,
      domain: 'mg.example.com',
      url: mailgun.url,
      from: 'Herald <noreply@mg.example.com>',
      timeoutMs: 1_000,
    });
    const job = emailJob({
      recipient: { email: 'zoë@example.com', name: 'Zoë "Z" Ünal' },
      content: {
        subject: 'Ünïcödé ✓ and "quotes"',
        text: 'line one\nline two\r\nline three\rend',
        html: '<p>ça va?</p>\n<p>--not-a-boundary--</p>',
      },
      category: 'alerts',
      template: { key: 'weekly', data: {} },
      metadata: { 'quote"d': 'v"1', 'new\nline': 'x' },
    });
    const { providerMessageId } = await provider.send(job);
    const ours = mailgun.findMessage(providerMessageId)!;

    const Mailgun = require('mailgun.js') as typeof MailgunClass;
    const reference = new Mailgun(FormData).client({
      username: 'api',
      key: mailgun.apiKey,
      url: mailgun.url,
    });
    const fields = Object.fromEntries(
      Object.entries(ours.fields)
        .filter(([name]) => name !== 'domain')
        .map(([name, values]) => [name, values.length === 1 ? values[0]! : values]),
    );
    const answer = await reference.messages.create('mg.example.com', fields as never);
    const theirs = mailgun.findMessage(answer.id!)!;

    expect(ours.fields).toEqual(theirs.fields);
    expect(ours.fields['o:tag']).toEqual(['alerts', 'weekly']);
    expect(ours.fields.text).toEqual(['line one\r\nline two\r\nline three\r\nend']);
    expect(ours.headers['content-length']).toBe(String(Number(ours.headers['content-length'])));
  });

  it('follows no redirect: a 3xx is a refusal, and the API key goes nowhere else', async () => {
    const elsewhere: IncomingHttpHeaders[] = [];
    const target = await listen((request, response) => {
      elsewhere.push(request.headers);
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"id":"<x@y>","message":"Queued"}');
    });
    const redirecting = await listen((request, response) => {
      request.resume();
      response.writeHead(307, { location: `${url(target)}${request.url}` }).end();
    });
    try {
      const provider = new MailgunProvider({
        apiKey: 'key-must-stay-here',
        domain: 'mg.example.com',
        url: url(redirecting),
        from: 'Herald <noreply@mg.example.com>',
        timeoutMs: 1_000,
      });
      await expect(provider.send(emailJob())).rejects.toMatchObject({
        code: 'rejected_by_provider',
        providerCode: '307',
      });
      expect(elsewhere).toEqual([]);
    } finally {
      await Promise.all([close(target), close(redirecting)]);
    }
  });
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function url(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
