import { randomUUID } from 'node:crypto';
import { MessageTypes, createMessage, type UserSnapshot } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

describe('user events from auth', () => {
  let h: Harness;
  beforeAll(async () => {
    // Prefetch 1: events are handled in order, so a later marker proves an earlier event was handled.
    h = await startHarness('notif-users', { settings: { prefetch: 1 } });
  });
  afterAll(() => h.close());

  const updatedEvent = (snapshot: UserSnapshot, occurredAt: Date) =>
    createMessage(MessageTypes.userUpdated, snapshot, { correlationId: 'auth', occurredAt });

  it('keeps the read model to the latest snapshot, whatever order updates arrive in', async () => {
    const user = await h.registerUser({ phone: '+14155550123', locale: 'de' });
    const now = Date.now();
    const newest = { ...user, email: 'newest@example.com', phone: undefined, role: 'admin' as const };
    const stale = { ...user, email: 'stale@example.com' };
    await h.publishEvent('user.updated', updatedEvent(newest, new Date(now + 2_000)));
    await waitFor(
      async () => (await h.models.users.findById(user.userId).lean())?.email === 'newest@example.com',
    );
    await h.publishEvent('user.updated', updatedEvent(stale, new Date(now + 1_000)));
    // Handled in order (prefetch 1): once the marker is in, the stale update was handled, and ignored.
    const marker = await h.registerUser();
    await waitFor(async () => h.models.users.exists({ _id: marker.userId }));

    const stored = await h.models.users.findById(user.userId).lean();
    expect(stored).toMatchObject({
      email: 'newest@example.com',
      role: 'admin',
      locale: 'de',
      disabled: false,
    });
    expect(stored?.phone).toBeUndefined();

    // A notification to the user now goes to the new address.
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(user.userId),
      body: { title: 'Hi', body: 'There', recipient: { userId: user.userId }, channels: ['email'] },
    });
    expect(response.statusCode).toBe(202);
    const job = await waitFor(async () => (await h.drain(h.names.queues.work.email))[0]);
    expect(job.payload.recipient.email).toBe('newest@example.com');
  });

  it('refuses to notify a disabled user', async () => {
    const user = await h.registerUser();
    await h.publishEvent(
      'user.updated',
      updatedEvent({ ...user, disabled: true }, new Date(Date.now() + 1_000)),
    );
    await waitFor(async () => (await h.models.users.findById(user.userId).lean())?.disabled === true);
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token('root', 'admin'),
      body: { title: 'Hi', body: 'There', recipient: { userId: user.userId }, channels: ['email'] },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('recipient_disabled');
  });

  function verificationRequested(userId: string, overrides: Json = {}) {
    return createMessage(
      MessageTypes.userVerificationRequested,
      {
        userId,
        email: 'verify-me@example.com',
        name: 'Zoé <Admin>',
        verificationUrl: 'https://herald.example/verify?token=abc&x=1',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        ...overrides,
      },
      { correlationId: 'auth-req-1' },
    );
  }

  async function nextEmailJob(): Promise<Json> {
    return waitFor(async () => (await h.drain(h.names.queues.work.email))[0], {
      description: 'an email job',
    });
  }

  it('sends the verification email once, in the user’s locale from the read model', async () => {
    const user = await h.registerUser({ locale: 'fr' });
    const message = verificationRequested(user.userId);
    await h.publishEvent('user.verification_requested', message);
    const job = await nextEmailJob();

    expect(job).toMatchObject({
      type: 'delivery.job',
      correlationId: 'auth-req-1',
      payload: {
        channel: 'email',
        category: 'account.verification',
        priority: 'high',
        recipient: { userId: user.userId, email: 'verify-me@example.com', locale: 'fr' },
        content: { subject: 'Confirmez votre adresse e-mail' },
      },
    });
    const { text, html } = job.payload.content;
    expect(text).toContain('Bonjour Zoé <Admin>,');
    expect(text).toContain('https://herald.example/verify?token=abc&x=1');
    expect(html).toContain('href="https://herald.example/verify?token=abc&amp;x=1"');
    expect(html).toContain('Zoé &lt;Admin&gt;');

    // Redelivered: no second email.
    await h.publishEvent('user.verification_requested', message);
    const marker = verificationRequested(user.userId, { locale: 'de' });
    await h.publishEvent('user.verification_requested', marker);
    const next = await nextEmailJob();
    expect(next.payload.content.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse');
    expect(
      await h.models.notifications.countDocuments({
        category: 'account.verification',
        'recipient.userId': user.userId,
      }),
    ).toBe(2);

    // An account email, not an inbox item.
    const inbox = await h.request('GET', '/api/v1/notifications', { token: h.token(user.userId) });
    expect(inbox.json().items).toEqual([]);
  });

  it('falls back to English for a locale it has no text for', async () => {
    await h.publishEvent(
      'user.verification_requested',
      verificationRequested(randomUUID(), { locale: 'ja' }),
    );
    const job = await nextEmailJob();
    expect(job.payload.content.subject).toBe('Confirm your email address');
    expect(job.payload.recipient.locale).toBe('en');
  });
});
