import { FakeMailgun, FakeSendGrid, FakeSmtp, FakeTwilio } from '@herald/fake-providers';
import { freePort } from '@herald/test-support';
import { ProviderPermanentError, ProviderTransientError } from '../src/deliveries/domain/delivery-errors';
import { definitelyRefused, movesToNextProvider } from '../src/failover/provider-chain';
import { MailgunProvider } from '../src/providers/mailgun';
import { SendGridProvider } from '../src/providers/sendgrid';
import { SmtpProvider } from '../src/providers/smtp';
import { TwilioProvider } from '../src/providers/twilio';
import { emailJob, smsJob } from './harness';

async function failureOf(
  promise: Promise<unknown>,
): Promise<ProviderTransientError | ProviderPermanentError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderTransientError || error instanceof ProviderPermanentError) return error;
    throw error;
  }
  throw new Error('the send did not fail');
}

const LIST_UNSUBSCRIBE = {
  'List-Unsubscribe':
    '<https://herald.example.com/api/v1/unsubscribe?token=abc.def>, <mailto:unsubscribe@herald.example.com?subject=unsubscribe>',
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
} as const;

describe('the SMTP provider (nodemailer) against a real SMTP server', () => {
  let smtp: FakeSmtp;
  let provider: SmtpProvider;

  beforeAll(async () => {
    smtp = await FakeSmtp.start();
    provider = new SmtpProvider({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      user: smtp.user,
      pass: smtp.pass,
      from: 'Herald <noreply@herald.test>',
      timeoutMs: 2_000,
      maxConnections: 1,
    });
  });
  afterAll(async () => {
    provider.close();
    await smtp.close();
  });
  beforeEach(() => smtp.reset());

  it('sends the message with the Herald ids as headers', async () => {
    const job = emailJob({ content: { subject: 'Hi', text: 'Plain body', html: '<p>HTML body</p>' } });
    const { providerMessageId } = await provider.send(job);
    expect(smtp.accepted).toHaveLength(1);
    const [mail] = smtp.accepted;
    expect(mail!.to).toEqual([job.recipient.email]);
    expect(mail!.from).toBe('noreply@herald.test');
    expect(mail!.headers).toMatchObject({
      subject: 'Hi',
      'x-herald-notification-id': job.notificationId,
      'x-herald-channel': 'email',
      'x-herald-job-id': job.jobId,
      'message-id': providerMessageId,
    });
    expect(mail!.raw).toContain('Plain body');
    expect(mail!.raw).toContain('<p>HTML body</p>');
  });

  it('writes the job’s List-Unsubscribe headers into the message (RFC 8058)', async () => {
    await provider.send(emailJob({ headers: LIST_UNSUBSCRIBE }));
    expect(smtp.accepted[0]!.headers).toMatchObject({
      'list-unsubscribe': LIST_UNSUBSCRIBE['List-Unsubscribe'],
      'list-unsubscribe-post': 'List-Unsubscribe=One-Click',
    });
  });

  it('classifies a 4xx reply as a refusal worth another provider, and a 5xx as permanent', async () => {
    smtp.failNext(1, 'transient');
    const transient = await failureOf(provider.send(emailJob()));
    expect(transient).toBeInstanceOf(ProviderTransientError);
    expect(transient).toMatchObject({ code: 'provider_unavailable', providerCode: '451' });
    expect(movesToNextProvider(transient)).toBe(true);

    smtp.failNext(1, 'permanent');
    const permanent = await failureOf(provider.send(emailJob()));
    expect(permanent).toBeInstanceOf(ProviderPermanentError);
    expect(permanent).toMatchObject({ code: 'rejected_by_provider', providerCode: '550' });
    expect(movesToNextProvider(permanent)).toBe(false);
    expect(smtp.accepted).toHaveLength(0);
  });

  it('calls a connection dropped after the message went out unclear: not a refusal', async () => {
    smtp.failNext(1, 'disconnect');
    const dropped = await failureOf(provider.send(emailJob()));
    expect(dropped).toBeInstanceOf(ProviderTransientError);
    expect(smtp.messages.map((mail) => mail.outcome)).toEqual(['disconnected']);
    expect(definitelyRefused(dropped)).toBe(false);
    expect(movesToNextProvider(dropped)).toBe(false);
    // and the pool recovers for the next message
    await provider.send(emailJob());
    expect(smtp.accepted).toHaveLength(1);
  });

  it('reports refused credentials as provider_auth_failed, and a closed port as never reached', async () => {
    const wrong = new SmtpProvider({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      user: smtp.user,
      pass: 'wrong',
      from: 'noreply@herald.test',
      timeoutMs: 2_000,
    });
    const auth = await failureOf(wrong.send(emailJob()));
    wrong.close();
    expect(auth).toMatchObject({ code: 'provider_auth_failed' });
    expect(movesToNextProvider(auth)).toBe(true);

    const closed = new SmtpProvider({
      host: '127.0.0.1',
      port: await freePort(),
      secure: false,
      from: 'noreply@herald.test',
      timeoutMs: 2_000,
    });
    const refused = await failureOf(closed.send(emailJob()));
    closed.close();
    expect(refused).toMatchObject({ code: 'provider_unreachable' });
    expect(definitelyRefused(refused)).toBe(true);
  });

  it('has nothing to ask afterwards', () => {
    expect((provider as { findSent?: unknown }).findSent).toBeUndefined();
  });
});

describe('the SendGrid provider (@sendgrid/mail) against a fake v3 API', () => {
  let sendgrid: FakeSendGrid;
  let provider: SendGridProvider;

  beforeAll(async () => {
    sendgrid = await FakeSendGrid.start();
    provider = new SendGridProvider({
      apiKey: sendgrid.apiKey,
      url: sendgrid.url,
      from: { email: 'noreply@herald.test', name: 'Herald' },
      timeoutMs: 2_000,
    });
  });
  afterAll(() => sendgrid.close());
  beforeEach(() => sendgrid.reset());

  it('sends with the Herald ids as custom args and returns the X-Message-Id', async () => {
    const job = emailJob({ category: 'reports' });
    const { providerMessageId } = await provider.send(job);
    const request = sendgrid.findMessage(providerMessageId)!;
    expect(request.fields).toEqual({
      from: ['Herald <noreply@herald.test>'],
      to: [job.recipient.email],
      subject: ['Your report is ready'],
      text: ['Hello Ada, your report is ready.'],
      html: ['<p>Hello Ada</p>'],
      category: ['reports'],
      'custom_args.herald_notification_id': [job.notificationId],
      'custom_args.herald_channel': ['email'],
      'custom_args.herald_job_id': [job.jobId],
    });
    expect(request.headers.authorization).toBe(`Bearer ${sendgrid.apiKey}`);
  });

  it('passes the job’s List-Unsubscribe headers as the message headers', async () => {
    const { providerMessageId } = await provider.send(emailJob({ headers: LIST_UNSUBSCRIBE }));
    expect(sendgrid.findMessage(providerMessageId)!.fields).toMatchObject({
      'h:List-Unsubscribe': [LIST_UNSUBSCRIBE['List-Unsubscribe']],
      'h:List-Unsubscribe-Post': ['List-Unsubscribe=One-Click'],
    });
  });

  it.each([
    ['rate_limited' as const, ProviderTransientError, 'provider_rate_limited', '429', true],
    ['server_error' as const, ProviderTransientError, 'provider_unavailable', '503', true],
    [{ status: 400 }, ProviderPermanentError, 'rejected_by_provider', '400', false],
    [{ status: 401 }, ProviderPermanentError, 'provider_auth_failed', '401', true],
  ])('classifies %j', async (kind, type, code, providerCode, movesOn) => {
    sendgrid.failNext(1, kind);
    const failure = await failureOf(provider.send(emailJob()));
    expect(failure).toBeInstanceOf(type);
    expect(failure).toMatchObject({ code, providerCode });
    expect(movesToNextProvider(failure)).toBe(movesOn);
    if (kind === 'rate_limited') expect((failure as ProviderTransientError).retryAfterMs).toBe(1_000);
  });

  it('finds an accepted send by its custom args in the activity feed, and only that one', async () => {
    const job = emailJob();
    const { providerMessageId } = await provider.send(job);
    expect(await provider.findSent(job)).toEqual({ kind: 'accepted', providerMessageId });
    expect(await provider.findSent(emailJob())).toEqual({ kind: 'not_found' });
    sendgrid.failNext(1, 'server_error');
    const never = emailJob();
    await failureOf(provider.send(never));
    expect(await provider.findSent(never)).toEqual({ kind: 'not_found' });
  });
});

describe('the lookups of Mailgun and Twilio against their fakes', () => {
  let mailgun: FakeMailgun;
  let twilio: FakeTwilio;

  beforeAll(async () => {
    [mailgun, twilio] = await Promise.all([FakeMailgun.start(), FakeTwilio.start()]);
  });
  afterAll(() => Promise.all([mailgun.close(), twilio.close()]));

  it("finds a Mailgun send by its notification id in the events API (mailgun.js's events client)", async () => {
    const provider = new MailgunProvider({
      apiKey: mailgun.apiKey,
      domain: 'mg.herald.test',
      url: mailgun.url,
      from: 'Herald <noreply@mg.herald.test>',
      timeoutMs: 2_000,
    });
    const job = emailJob();
    const { providerMessageId } = await provider.send(job);
    expect(await provider.findSent(job)).toEqual({ kind: 'accepted', providerMessageId });
    expect(await provider.findSent(emailJob())).toEqual({ kind: 'not_found' });
    mailgun.failNext(1, 'server_error');
    const refused = emailJob();
    await failureOf(provider.send(refused));
    expect(await provider.findSent(refused)).toEqual({ kind: 'not_found' });
  });

  it('sends the job’s List-Unsubscribe headers as Mailgun h: fields', async () => {
    const provider = new MailgunProvider({
      apiKey: mailgun.apiKey,
      domain: 'mg.herald.test',
      url: mailgun.url,
      from: 'Herald <noreply@mg.herald.test>',
      timeoutMs: 2_000,
    });
    const { providerMessageId } = await provider.send(emailJob({ headers: LIST_UNSUBSCRIBE }));
    const recorded = mailgun.accepted.find((message) => message.messageId === providerMessageId)!;
    expect(recorded.fields).toMatchObject({
      'h:List-Unsubscribe': [LIST_UNSUBSCRIBE['List-Unsubscribe']],
      'h:List-Unsubscribe-Post': ['List-Unsubscribe=One-Click'],
    });
    // a job without them sends none
    const { providerMessageId: plain } = await provider.send(emailJob());
    const without = mailgun.accepted.find((message) => message.messageId === plain)!;
    expect(Object.keys(without.fields).filter((name) => name.startsWith('h:'))).toEqual([]);
  });

  it("finds a Twilio send in the number's message list by body and time", async () => {
    const provider = new TwilioProvider({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: '+15005550001',
      apiUrl: twilio.url,
      statusCallbackUrl: 'https://herald.example.com/api/v1/webhooks/twilio',
      timeoutMs: 2_000,
    });
    const since = new Date();
    const job = smsJob({ content: { text: 'long', sms: 'Your code is 424242' } });
    const { providerMessageId } = await provider.send(job);
    expect(await provider.findSent(job, { since })).toEqual({ kind: 'accepted', providerMessageId });
    // the same number, another text: not this send
    const other = smsJob({ recipient: job.recipient, content: { text: 'Your code is 111111' } });
    expect(await provider.findSent(other, { since })).toEqual({ kind: 'not_found' });
    // a message older than the delivery record is another send
    expect(await provider.findSent(job, { since: new Date(Date.now() + 10 * 60_000) })).toEqual({
      kind: 'not_found',
    });
  });
});
