import { FakeMailgun, FakeTwilio } from '@herald/fake-providers';
import { MailgunProvider, TwilioProvider } from '../src/providers';
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
});
