import { randomUUID } from 'node:crypto';
import { MessageTypes, createMessage } from '@herald/contracts';
import { FakeMailgun, field, type RecordedRequest } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * auth → user.verification_requested → this service renders `verify-email`
 * → delivery job → fake Mailgun. The worker is not part of these tests (a
 * service never loads another's code): the test hands the job to the fake
 * Mailgun with the fields the worker's Mailgun provider sends (from, to,
 * subject, text, html, v: variables). The worker sends `content` as it is
 * (see the delivery job contract), so what arrives here is what the worker
 * would deliver. The full chain through the real worker runs in e2e/.
 */
describe('the verification email, rendered from the verify-email template', () => {
  let h: Harness;
  let mailgun: FakeMailgun;
  const admin = () => h.token('admin-1', 'admin');

  beforeAll(async () => {
    h = await startHarness('notif-templates-verify');
    mailgun = await FakeMailgun.start();
  });
  afterAll(async () => {
    await mailgun.close();
    await h.close();
  });

  function verificationRequested(userId: string, overrides: Json = {}) {
    return createMessage(
      MessageTypes.userVerificationRequested,
      {
        userId,
        email: 'jurgen@example.com',
        name: 'Jürgen <Admin>',
        verificationUrl: 'https://herald.example/verify?token=t0k%2Fen%3D&source=email',
        expiresAt: '2030-05-04T10:15:00.000Z',
        ...overrides,
      },
      { correlationId: `auth-${randomUUID()}` },
    );
  }

  /** Acts as the worker: the job's content through the Mailgun messages API, as the worker's provider sends it. */
  async function deliver(job: Json): Promise<RecordedRequest> {
    const { content, recipient } = job.payload;
    const form = new URLSearchParams({
      from: 'Herald <noreply@mg.example.com>',
      to: recipient.email,
      subject: content.subject,
      text: content.text,
      ...(content.html ? { html: content.html } : {}),
      'v:notification-id': job.payload.notificationId,
      'v:channel': 'email',
      'v:job-id': job.payload.jobId,
    });
    const response = await fetch(`${mailgun.url}/v3/mg.example.com/messages`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`api:${mailgun.apiKey}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    return mailgun.accepted.find((message) => message.messageId === id)!;
  }

  async function nextEmailJob(): Promise<Json> {
    return waitFor(async () => (await h.drain(h.names.queues.work.email))[0], {
      description: 'an email job',
    });
  }

  const decodeEntities = (value: string) =>
    value
      .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
      .replace(/&#(\d+);/g, (_, decimal: string) => String.fromCodePoint(Number(decimal)))
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');

  it("arrives at the fake Mailgun in the user's language, with a link that carries the token intact", async () => {
    const user = await h.registerUser({ locale: 'de-AT' });
    const event = verificationRequested(user.userId);
    await h.publishEvent('user.verification_requested', event);
    const mail = await deliver(await nextEmailJob());

    expect(mail.recipient).toBe('jurgen@example.com');
    expect(field(mail, 'subject')).toBe('Bestätigen Sie Ihre E-Mail-Adresse');
    const text = field(mail, 'text')!;
    expect(text).toContain('Hallo Jürgen <Admin>,');
    expect(text).toContain('\nhttps://herald.example/verify?token=t0k%2Fen%3D&source=email\n');
    expect(text).toContain('Der Link läuft am 4. Mai 2030 um 10:15 UTC ab.');

    const html = field(mail, 'html')!;
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('Hallo Jürgen &lt;Admin&gt;,');
    const button = /<a class="button" href="([^"]+)" style="[^"]+">([^<]+)<\/a>/.exec(html);
    expect(button?.[2]).toBe('E-Mail-Adresse bestätigen');
    // The link works: after HTML decoding it is exactly auth's URL, and the token survives.
    const link = new URL(decodeEntities(button![1]!));
    expect(link.href).toBe('https://herald.example/verify?token=t0k%2Fen%3D&source=email');
    expect(link.searchParams.get('token')).toBe('t0k/en=');

    const stored: Json = await h.models.notifications
      .findOne({ dedupeKey: `verification:${event.messageId}` })
      .lean();
    expect(stored).toMatchObject({
      userId: null,
      locale: 'de',
      template: { key: 'verify-email', version: 1, locale: 'de' },
      rendered: { email: { subject: 'Bestätigen Sie Ihre E-Mail-Adresse' } },
    });
  });

  it('prefers the locale in the event to the read model, and falls back to English', async () => {
    const user = await h.registerUser({ locale: 'de' });
    await h.publishEvent(
      'user.verification_requested',
      verificationRequested(user.userId, { locale: 'es-MX' }),
    );
    expect(field(await deliver(await nextEmailJob()), 'subject')).toBe('Confirma tu dirección de correo');

    await h.publishEvent(
      'user.verification_requested',
      verificationRequested(randomUUID(), { locale: 'ja' }),
    );
    const job = await nextEmailJob();
    expect(job.payload.recipient.locale).toBe('en');
    expect(field(await deliver(job), 'subject')).toBe('Confirm your email address');
  });

  it("sends an admin's edit of verify-email, and the shipped content if the edit cannot render", async () => {
    const current = (await h.request('GET', '/api/v1/templates/verify-email', { token: admin() })).json();
    const edited = await h.request('PATCH', '/api/v1/templates/verify-email', {
      token: admin(),
      body: { locales: { fr: { ...current.locales.fr, subject: 'Une dernière étape, {{name}}' } } },
    });
    expect(edited.json().version).toBe(2);
    const user = await h.registerUser({ locale: 'fr' });
    await h.publishEvent('user.verification_requested', verificationRequested(user.userId));
    const job = await nextEmailJob();
    expect(job.payload.content.subject).toBe('Une dernière étape, Jürgen <Admin>');
    expect(job.payload.template).toMatchObject({ key: 'verify-email', version: 2, locale: 'fr' });

    // An edit that needs a variable Herald does not provide: sign-ups keep working with the shipped text.
    const broken = await h.request('PATCH', '/api/v1/templates/verify-email', {
      token: admin(),
      body: {
        variables: {
          ...current.variables,
          properties: { ...current.variables.properties, company: { type: 'string' } },
          required: [...current.variables.required, 'company'],
        },
      },
    });
    expect(broken.json()).toMatchObject({ version: 3 });
    await h.publishEvent('user.verification_requested', verificationRequested(user.userId));
    const fallback = await nextEmailJob();
    expect(fallback.payload.content.subject).toBe('Confirmez votre adresse e-mail');
    expect(fallback.payload.template).toEqual(expect.not.objectContaining({ version: expect.anything() }));
    expect(fallback.payload.template).toMatchObject({ key: 'verify-email', locale: 'fr' });
  });
});
