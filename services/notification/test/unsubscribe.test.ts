import { FakeMailgun } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { signUnsubscribeToken } from '../src/unsubscribe/domain/token';
import { startHarness, type Harness, type Json } from './harness';
import { topicEvents } from './topic-events';
import { postMailgun, sendThroughMailgun, untilEmailStatus } from './webhook-helpers';

const SECRET = 'unsubscribe-secret-for-tests';
const BASE = 'https://herald.example.com';
const DAY = 86_400_000;

describe('one-click unsubscribe (RFC 8058)', () => {
  let h: Harness;
  let mailgun: FakeMailgun;
  let admin: string;
  let clock = new Date('2026-03-01T12:00:00Z');
  beforeAll(async () => {
    mailgun = await FakeMailgun.start({ webhookSigningKey: 'mg-signing-key-for-unsubscribe' });
    h = await startHarness('unsubscribe', {
      now: () => clock,
      settings: {
        publicBaseUrl: BASE,
        mailgunWebhookSigningKey: mailgun.webhookSigningKey,
        unsubscribe: { secret: SECRET, linkTtlMs: 30 * DAY, mailto: 'unsubscribe@herald.example.com' },
      },
    });
    admin = h.token('unsubscribe-admin', 'admin');
    await h.createCategories('marketing', 'digest');
    const critical = await h.request('POST', '/api/v1/categories', {
      token: admin,
      body: { key: 'billing', name: 'Billing', critical: true },
    });
    expect(critical.statusCode).toBe(201);
  });
  afterAll(async () => {
    await h.close();
    await mailgun.close();
  });

  async function emailJobOf(body: Json) {
    const sent = await h.request('POST', '/api/v1/notifications', {
      token: admin,
      body: { title: 'News', body: 'Hello', channels: ['email'], ...body },
    });
    expect(sent.statusCode).toBe(202);
    const id = sent.json().id as string;
    await waitFor(() => h.confirmed(id), { description: 'the email job published' });
    const jobs = await h.drain(h.names.queues.work.email);
    return { id, job: jobs.find((job) => job.payload.notificationId === id) };
  }

  const urlOf = (job: Json) => /^<([^>]+)>/.exec(job.payload.headers['List-Unsubscribe'])![1]!;
  const pathOf = (url: string) => url.slice(BASE.length);
  const preferencesOf = async (userId: string) =>
    (await h.request('GET', '/api/v1/preferences', { token: h.token(userId) })).json();

  it('puts List-Unsubscribe and List-Unsubscribe-Post on a non-critical email to a recipient, not on a critical one or an outside address', async () => {
    const user = await h.registerUser();
    const { job } = await emailJobOf({ recipient: { userId: user.userId }, category: 'marketing' });
    expect(job.payload.headers).toEqual({
      'List-Unsubscribe': expect.stringMatching(
        /^<https:\/\/herald\.example\.com\/api\/v1\/unsubscribe\?token=[\w.-]+>, <mailto:unsubscribe@herald\.example\.com\?subject=unsubscribe>$/,
      ),
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    const critical = await emailJobOf({ recipient: { userId: user.userId }, category: 'billing' });
    expect(critical.job.payload).not.toHaveProperty('headers');
    const outside = await emailJobOf({ recipient: { email: 'someone@example.org' }, category: 'marketing' });
    expect(outside.job.payload).not.toHaveProperty('headers');
  });

  it('GET shows a confirmation page that changes nothing; POST mutes the category by email, once, without login', async () => {
    const user = await h.registerUser();
    const { job } = await emailJobOf({ recipient: { userId: user.userId }, category: 'marketing' });
    const path = pathOf(urlOf(job));

    // mail scanners follow links: a GET, twice, changes nothing
    for (let round = 0; round < 2; round += 1) {
      const page = await h.request('GET', path);
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.body).toContain('<form method="post"');
      expect(page.body).toContain('marketing');
    }
    expect(await h.models.preferences.exists({ _id: user.userId })).toBeNull();

    // RFC 8058: the mailbox provider POSTs `List-Unsubscribe=One-Click`, form-encoded, no credentials
    const post = () =>
      h.request('POST', path, {
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const first = await post();
    expect(first.statusCode).toBe(200);
    const preferences = await preferencesOf(user.userId);
    expect(preferences.categories).toEqual({ marketing: { email: false } });
    expect(preferences.changes).toEqual([
      expect.objectContaining({
        by: 'link:marketing',
        byKind: 'unsubscribe',
        from: { channels: {}, categories: {} },
        to: { channels: {}, categories: { marketing: { email: false } } },
      }),
    ]);
    // idempotent: 200 again, nothing changed or audited twice
    expect((await post()).statusCode).toBe(200);
    expect((await preferencesOf(user.userId)).changes).toHaveLength(1);
    // the page now says so
    expect((await h.request('GET', path)).body).toContain('You are unsubscribed');

    // the next marketing email is skipped; another category still goes
    const next = await h.request('POST', '/api/v1/notifications', {
      token: admin,
      body: {
        title: 'More',
        body: 'News',
        recipient: { userId: user.userId },
        channels: ['in_app', 'email'],
        category: 'marketing',
      },
    });
    expect(next.json().statuses).toEqual({ in_app: 'delivered', email: 'skipped' });
    const digest = await emailJobOf({ recipient: { userId: user.userId }, category: 'digest' });
    expect(digest.job).toBeDefined();
  });

  it('refuses a tampered, forged or expired link with 400 naming the token; nothing changes', async () => {
    const user = await h.registerUser();
    const { job } = await emailJobOf({ recipient: { userId: user.userId }, category: 'marketing' });
    const token = new URL(urlOf(job)).searchParams.get('token')!;
    const [payload, mac] = token.split('.') as [string, string];
    // another recipient's id in the payload, the MAC kept; a MAC made with another key; a bit flipped
    const otherPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), r: 'someone-else' }),
    ).toString('base64url');
    const forged = signUnsubscribeToken('not-the-server-secret', {
      recipientId: user.userId,
      category: 'marketing',
      expiresAt: new Date(clock.getTime() + DAY),
    });
    const flipped = `${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [`${otherPayload}.${mac}`, forged, flipped, 'garbage', `${payload}.`]) {
      const response = await h.request('POST', `/api/v1/unsubscribe?token=${encodeURIComponent(bad)}`);
      expect({ bad, status: response.statusCode }).toEqual({ bad, status: 400 });
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().errors).toEqual([expect.objectContaining({ field: '/querystring/token' })]);
      const page = await h.request('GET', `/api/v1/unsubscribe?token=${encodeURIComponent(bad)}`);
      expect(page.statusCode).toBe(400);
    }
    for (const method of ['GET', 'POST'] as const) {
      const missing = await h.request(method, '/api/v1/unsubscribe');
      expect(missing.statusCode).toBe(400);
      expect(missing.json().errors).toEqual([expect.objectContaining({ field: '/querystring/token' })]);
    }

    // the genuine link, once its time has passed
    const saved = clock;
    clock = new Date(saved.getTime() + 31 * DAY);
    try {
      const expired = await h.request('POST', `/api/v1/unsubscribe?token=${token}`);
      expect(expired.statusCode).toBe(400);
      expect(expired.json()).toMatchObject({ code: 'unsubscribe_link_expired' });
      expect((await h.request('GET', `/api/v1/unsubscribe?token=${token}`)).body).toContain('expired');
    } finally {
      clock = saved;
    }
    expect(await h.models.preferences.exists({ _id: user.userId })).toBeNull();
    expect(await h.models.preferences.exists({ _id: 'someone-else' })).toBeNull();
  });

  it('gives templates {{unsubscribeUrl}} and {{preferencesUrl}}: each recipient its own working link', async () => {
    const created = await h.request('POST', '/api/v1/templates', {
      token: admin,
      body: {
        key: 'newsletter',
        channels: ['email'],
        defaultLocale: 'en',
        locales: {
          en: {
            subject: 'Our news',
            html: '<p>News</p><a href="{{unsubscribeUrl}}">Unsubscribe</a> <a href="{{preferencesUrl}}">Preferences</a>',
            text: 'News. Unsubscribe: {{unsubscribeUrl}}',
          },
        },
      },
    });
    expect(created.statusCode).toBe(201);
    const preview = await h.request('POST', '/api/v1/templates/newsletter/preview', {
      token: admin,
      body: { data: {} },
    });
    expect(preview.statusCode).toBe(200);
    expect(preview.json().text).toContain('Unsubscribe: https://example.invalid/unsubscribe-link');
    const [ada, bob] = [await h.registerUser(), await h.registerUser()];
    const sent = await h.request('POST', '/api/v1/notifications', {
      token: admin,
      body: {
        recipients: [{ userId: ada.userId }, { userId: bob.userId }],
        channels: ['email'],
        category: 'marketing',
        template: { key: 'newsletter', data: {} },
      },
    });
    expect(sent.statusCode).toBe(202);
    const ids = sent.json().notifications.map((one: Json) => one.id as string);
    const texts = await Promise.all(
      ids.map(async (id: string) => (await h.stored(id)).rendered.email.text as string),
    );
    const links = texts.map((text) => /Unsubscribe: (\S+)/.exec(text)![1]!);
    expect(links[0]).not.toBe(links[1]);
    const html = (await h.stored(ids[0])).rendered.email.html as string;
    expect(html).toContain(`href="${links[0]}"`);
    expect(html).not.toContain('herald.invalid');

    // Bob's link unsubscribes Bob, not Ada
    expect((await h.request('POST', pathOf(links[1]!))).statusCode).toBe(200);
    expect((await preferencesOf(bob.userId)).categories).toEqual({ marketing: { email: false } });
    expect(await h.models.preferences.exists({ _id: ada.userId })).toBeNull();
    await h.drain(h.names.queues.work.email);
  });

  it("gives a topic send's members their own working link for {{unsubscribeUrl}}, never one the sender puts in the data", async () => {
    const created = await h.request('POST', '/api/v1/templates', {
      token: admin,
      body: {
        key: 'topic-newsletter',
        channels: ['email'],
        defaultLocale: 'en',
        locales: { en: { subject: 'Our news', text: 'News. Unsubscribe: {{unsubscribeUrl}}' } },
      },
    });
    expect(created.statusCode).toBe(201);
    const topics = topicEvents(h);
    for (const id of ['unsub-m1', 'unsub-m2']) await h.upsertSubscriber(id, { email: `${id}@example.com` });
    await topics.created('unsub-news', ['unsub-m1', 'unsub-m2']);
    const sender = (await h.createApiKey(['notifications:send'])).key;
    const reader = (await h.createApiKey(['subscribers:write'])).key;
    const sent = await h.request('POST', '/api/v1/notifications', {
      token: sender,
      body: {
        recipient: { topic: 'unsub-news' },
        channels: ['email'],
        category: 'marketing',
        // a sender trying to point the unsubscribe link elsewhere
        template: { key: 'topic-newsletter', data: { unsubscribeUrl: 'https://evil.example/unsubscribe' } },
      },
    });
    expect(sent.statusCode).toBe(202);
    const { topicSendId } = sent.json() as { topicSendId: string };
    await waitFor(
      async () => (await h.models.topicSends.findById(topicSendId).lean())?.state === 'completed',
      { description: 'the topic send completed' },
    );
    const stored = await h.models.notifications
      .find({ broadcastId: topicSendId })
      .sort({ 'recipient.userId': 1 })
      .lean<Json[]>();
    expect(stored.map((record) => record.recipient.userId)).toEqual(['sub:unsub-m1', 'sub:unsub-m2']);
    const links = stored.map((record) => /Unsubscribe: (\S+)/.exec(record.rendered.email.text)![1]!);
    expect(links[0]).not.toBe(links[1]);
    for (const link of links) expect(link.startsWith(`${BASE}/api/v1/unsubscribe?token=`)).toBe(true);
    // what is sent (the stored template data keeps what the sender gave, for the audit)
    const sentContent = JSON.stringify(
      stored.map(({ title, body, rendered }) => ({ title, body, rendered })),
    );
    expect(sentContent).not.toContain('evil.example');
    expect(sentContent).not.toContain('herald.invalid');

    // the second member's link unsubscribes that member from marketing email, not the first
    expect((await h.request('POST', pathOf(links[1]!))).statusCode).toBe(200);
    const preferences = await h.request('GET', '/api/v1/preferences/subscribers/unsub-m2', { token: reader });
    expect(preferences.json().categories).toEqual({ marketing: { email: false } });
    expect(await h.models.preferences.exists({ _id: 'sub:unsub-m1' })).toBeNull();
    await h.drain(h.names.queues.work.email);
  });

  it("Mailgun's unsubscribed event mutes that category's email for that recipient, not the address", async () => {
    // the fake signs its webhooks with the real time, which the service's clock must be near
    clock = new Date();
    const user = await h.registerUser();
    const { id } = await emailJobOf({ recipient: { userId: user.userId }, category: 'digest' });
    const message = await sendThroughMailgun(h, mailgun, id, user.email);
    await untilEmailStatus(h, id, 'sent');
    const response = await postMailgun(h, mailgun.webhookBody({ event: 'unsubscribed', message }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ outcome: 'applied' });
    const preferences = await preferencesOf(user.userId);
    expect(preferences.categories).toEqual({ digest: { email: false } });
    expect(preferences.changes[0]).toMatchObject({ by: 'mailgun', byKind: 'provider' });
    // the address stays deliverable: a critical email still goes
    expect(await h.models.suppressions.countDocuments()).toBe(0);
    const critical = await emailJobOf({ recipient: { userId: user.userId }, category: 'billing' });
    expect(critical.job).toBeDefined();
  });

  it("Mailgun's unsubscribed event for an outside address (no preferences to set) suppresses that address", async () => {
    clock = new Date();
    const { id } = await emailJobOf({ recipient: { email: 'outsider@example.org' }, category: 'digest' });
    const message = await sendThroughMailgun(h, mailgun, id, 'outsider@example.org');
    await untilEmailStatus(h, id, 'sent');
    const response = await postMailgun(h, mailgun.webhookBody({ event: 'unsubscribed', message }));
    expect(response.statusCode).toBe(200);
    expect(await h.models.suppressions.findOne({ _id: 'outsider@example.org' }).lean()).toMatchObject({
      reason: 'unsubscribed',
      provider: 'mailgun',
    });
  });
});

describe('one-click unsubscribe without a secret', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('unsubscribe-off');
  });
  afterAll(() => h.close());

  it('sends no List-Unsubscribe and answers the link with 503', async () => {
    const user = await h.registerUser();
    const sent = await h.request('POST', '/api/v1/notifications', {
      token: h.token('admin-off', 'admin'),
      body: { title: 'News', body: 'Hello', channels: ['email'], recipient: { userId: user.userId } },
    });
    const id = sent.json().id as string;
    await waitFor(() => h.confirmed(id), { description: 'the email job published' });
    const [job] = await h.drain(h.names.queues.work.email);
    expect(job.payload).not.toHaveProperty('headers');
    const token = signUnsubscribeToken(SECRET, {
      recipientId: user.userId,
      category: 'general',
      expiresAt: new Date(Date.now() + DAY),
    });
    expect((await h.request('POST', `/api/v1/unsubscribe?token=${token}`)).statusCode).toBe(503);
  });
});
