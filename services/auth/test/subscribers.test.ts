import { type AddressInfo } from 'node:net';
import { createJwksKeyResolver, createTokenVerifier } from '@herald/runtime/http';
import { waitFor } from '@herald/test-support';
import {
  adminAccessToken,
  createApiKey,
  startHarness,
  TEST_ADMIN,
  waitForOutboxDrained,
  type AuthHarness,
} from './harness';

const ADA = {
  email: 'ada@example.com',
  phone: '+447700900123',
  name: 'Ada Lovelace',
  locale: 'en-GB',
  timezone: 'Europe/London',
  data: { plan: 'pro', seats: 3 },
};

describe('subscribers', () => {
  let auth: AuthHarness;
  let adminToken: string;
  let writer: string;
  let sender: string;

  beforeAll(async () => {
    auth = await startHarness('auth-subscribers', {
      env: { ...TEST_ADMIN, API_KEY_RATE_LIMIT_PER_SECOND: '1000', INBOX_TOKEN_TTL_SECONDS: '600' },
    });
    adminToken = await adminAccessToken(auth);
    writer = (await createApiKey(auth, adminToken, ['subscribers:write'])).key;
    sender = (await createApiKey(auth, adminToken, ['notifications:send'])).key;
  });
  afterAll(() => auth.close());

  const put = (externalId: string, body: unknown, key = writer) =>
    auth.request('PUT', `/api/v1/subscribers/${encodeURIComponent(externalId)}`, body, key);
  const get = (externalId: string, key = writer) =>
    auth.request('GET', `/api/v1/subscribers/${encodeURIComponent(externalId)}`, undefined, key);
  const eventsAbout = (externalId: string) =>
    auth.events.messages.filter(
      (message) =>
        message.type.startsWith('subscriber.') &&
        (message.payload as { externalId?: string }).externalId === externalId,
    );

  it('creates a subscriber (201), updates it (200), and publishes the whole subscriber with its revision', async () => {
    const created = await put('customer-42', ADA);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      externalId: 'customer-42',
      subscriberId: 'sub:customer-42',
      ...ADA,
      revision: 1,
    });

    const updated = await put('customer-42', { ...ADA, name: 'Ada King' });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ name: 'Ada King', revision: 2 });
    expect(updated.json().createdAt).toBe(created.json().createdAt);

    const events = await waitFor(() => {
      const found = eventsAbout('customer-42');
      return found.length === 2 ? found : undefined;
    });
    expect(events.map((event) => [event.type, (event.payload as { revision: number }).revision])).toEqual([
      ['subscriber.upserted', 1],
      ['subscriber.upserted', 2],
    ]);
    expect(events[1]!.payload).toMatchObject({ ...ADA, name: 'Ada King', subscriberId: 'sub:customer-42' });
    expect((await get('customer-42')).json()).toEqual(updated.json());
  });

  it('replaces the whole subscriber: a field left out is removed; an unchanged PUT publishes nothing', async () => {
    await put('replace-me', ADA);
    const replaced = await put('replace-me', { email: 'new@example.com' });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toEqual({
      externalId: 'replace-me',
      subscriberId: 'sub:replace-me',
      email: 'new@example.com',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      revision: 2,
    });
    const again = await put('replace-me', { email: 'new@example.com' });
    expect(again.json().revision).toBe(2);
    await waitForOutboxDrained(auth);
    expect(eventsAbout('replace-me')).toHaveLength(2);
  });

  it.each([
    ['an external id with a space', 'ada lovelace', {}, '/params/externalId'],
    ['an external id with a slash-like character', 'ada#1', {}, '/params/externalId'],
    ['an external id of 129 characters', 'x'.repeat(129), {}, '/params/externalId'],
    ['a bad email', 'bad-input', { email: 'not-an-email' }, '/body/email'],
    ['a phone that is not E.164', 'bad-input', { phone: '07700 900123' }, '/body/phone'],
    ['an unknown time zone', 'bad-input', { timezone: 'Mars/Olympus_Mons' }, '/body/timezone'],
    ['data over 16 KB', 'bad-input', { data: { blob: 'x'.repeat(16 * 1024) } }, '/body/data'],
    ['data that is not an object', 'bad-input', { data: [1, 2] }, '/body/data'],
    ['an unknown field', 'bad-input', { email: 'a@example.com', password: 'x' }, '/body/password'],
    ['a bad locale', 'bad-input', { locale: 'english please' }, '/body/locale'],
  ])('answers 400 problem+json for %s', async (_, externalId, body, field) => {
    const response = await put(externalId, body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().errors.map((error: { field: string }) => error.field)).toContain(field);
    expect((await get('bad-input')).statusCode).toBe(404);
  });

  it('keeps any JSON in data, keys with dots and dollars included', async () => {
    const data = { 'a.b': 1, $where: 'x', nested: { $gt: [1, { 'c.d': null }] }, text: 'é' };
    const created = await put('odd-data', { data });
    expect(created.statusCode).toBe(201);
    expect((await get('odd-data')).json().data).toEqual(data);
    expect((await put('odd-data', { data })).json().revision).toBe(1);
    const changed = { ...data, $where: 'y' };
    expect((await put('odd-data', { data: changed })).json()).toMatchObject({ data: changed, revision: 2 });
    expect((await get('odd-data')).json().data).toEqual(changed);
  });

  it('accepts every allowed external id character and 128 characters', async () => {
    for (const externalId of ['user@shop.example:42_a-b', 'y'.repeat(128)]) {
      expect((await put(externalId, { name: 'Edge' })).statusCode).toBe(201);
      expect((await get(externalId)).json().externalId).toBe(externalId);
    }
  });

  it('lists subscribers with a cursor', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) await put(id, { name: id });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await auth.request(
        'GET',
        `/api/v1/subscribers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        writer,
      );
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().items.map((item: { externalId: string }) => item.externalId));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(seen.filter((id) => id.startsWith('list-'))).toEqual(['list-a', 'list-b', 'list-c']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('deletes a subscriber: its personal data is erased, subscriber.deleted is published, a new PUT starts over', async () => {
    await put('forget-me', ADA);
    const deleted = await auth.request('DELETE', '/api/v1/subscribers/forget-me', undefined, writer);
    expect(deleted.statusCode).toBe(204);
    expect((await get('forget-me')).statusCode).toBe(404);
    expect(
      (await auth.request('DELETE', '/api/v1/subscribers/forget-me', undefined, writer)).statusCode,
    ).toBe(404);

    await waitForOutboxDrained(auth);
    const stored = await auth.models.subscribers.findById('forget-me').lean();
    // a tombstone: no address, name, locale, zone or data, and no pending event still holding them
    expect(JSON.stringify(stored)).not.toMatch(
      /ada@example\.com|\+447700900123|Lovelace|Europe\/London|plan/,
    );
    expect(stored).toMatchObject({ revision: 2, deletedAt: expect.any(Date) });

    const events = eventsAbout('forget-me');
    expect(events.map((event) => event.type)).toEqual(['subscriber.upserted', 'subscriber.deleted']);
    expect(events[1]!.payload).toMatchObject({ subscriberId: 'sub:forget-me', revision: 2 });

    const again = await put('forget-me', { name: 'Back' });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ name: 'Back', revision: 3 });
    const listed = await auth.request('GET', '/api/v1/subscribers?limit=100', undefined, writer);
    expect(
      listed.json().items.filter((item: { externalId: string }) => item.externalId === 'forget-me'),
    ).toHaveLength(1);
  });

  it('refuses subscriber writes to a key with only notifications:send, and to a normal user (403 missing_scope)', async () => {
    const user = await auth.signUp('plain-user@example.com');
    for (const token of [sender, user.accessToken]) {
      for (const [method, url, body] of [
        ['PUT', '/api/v1/subscribers/customer-42', { name: 'Mallory' }],
        ['DELETE', '/api/v1/subscribers/customer-42', undefined],
        ['GET', '/api/v1/subscribers', undefined],
        ['GET', '/api/v1/subscribers/customer-42', undefined],
      ] as const) {
        const response = await auth.request(method, url, body, token);
        expect(response.statusCode).toBe(403);
        expect(response.json()).toMatchObject({ code: 'missing_scope' });
      }
    }
    expect((await get('customer-42')).json().name).toBe('Ada King');
  });

  it('lets an admin user manage subscribers', async () => {
    expect((await put('by-admin', { name: 'Admin made' }, adminToken)).statusCode).toBe(201);
  });

  describe('inbox tokens', () => {
    it('issues a token to a key with notifications:send or subscribers:write, and 404 for an unknown subscriber', async () => {
      for (const key of [sender, writer]) {
        const issued = await auth.request(
          'POST',
          '/api/v1/subscribers/customer-42/inbox-token',
          undefined,
          key,
        );
        expect(issued.statusCode).toBe(200);
        expect(issued.headers['cache-control']).toBe('no-store');
        expect(issued.json()).toEqual({ token: expect.any(String), expiresAt: expect.any(String) });
        const ttl = new Date(issued.json().expiresAt).getTime() - auth.clock.now().getTime();
        expect(ttl).toBeGreaterThan(590_000);
        expect(ttl).toBeLessThanOrEqual(600_000);
      }
      const unknown = await auth.request('POST', '/api/v1/subscribers/nobody/inbox-token', undefined, sender);
      expect(unknown.statusCode).toBe(404);
      // a person's token, whose own notifications:send is for notifying themself, mints nothing
      const person = await auth.signUp('curious-user@example.com');
      const refused = await auth.request(
        'POST',
        '/api/v1/subscribers/customer-42/inbox-token',
        undefined,
        person.accessToken,
      );
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'principal_not_allowed' });
      const byAdmin = await auth.request(
        'POST',
        '/api/v1/subscribers/customer-42/inbox-token',
        undefined,
        adminToken,
      );
      expect(byAdmin.statusCode).toBe(200);
      const readOnly = (await createApiKey(auth, adminToken, ['templates:read'])).key;
      expect(
        (
          await auth.request('POST', '/api/v1/subscribers/customer-42/inbox-token', undefined, readOnly)
        ).json(),
      ).toMatchObject({ code: 'missing_scope' });
    });

    it('is verified through the JWKS by any service as the subscriber, with only the inbox scope', async () => {
      const address = await auth.app.listen({ host: '127.0.0.1', port: 0 });
      void address;
      const port = (auth.app.server.address() as AddressInfo).port;
      const verifier = createTokenVerifier({
        keys: createJwksKeyResolver({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` }),
        issuer: auth.config.JWT_ISSUER,
        audience: auth.config.JWT_AUDIENCE,
        now: auth.clock.now,
      });
      const { token } = (
        await auth.request('POST', '/api/v1/subscribers/customer-42/inbox-token', undefined, sender)
      ).json();
      expect(await verifier.verify(token)).toMatchObject({
        kind: 'subscriber',
        id: 'sub:customer-42',
        role: 'user',
        scopes: ['inbox'],
      });
    });

    it('is refused by every auth route', async () => {
      const { token } = (
        await auth.request('POST', '/api/v1/subscribers/customer-42/inbox-token', undefined, sender)
      ).json();
      for (const [method, url, body] of [
        ['GET', '/api/v1/auth/me', undefined],
        ['PATCH', '/api/v1/auth/me', { name: 'x' }],
        ['POST', '/api/v1/auth/logout-all', undefined],
        ['GET', '/api/v1/users', undefined],
        ['GET', '/api/v1/api-keys', undefined],
        ['GET', '/api/v1/subscribers', undefined],
        ['GET', '/api/v1/subscribers/customer-42', undefined],
        ['PUT', '/api/v1/subscribers/customer-42', { name: 'x' }],
        ['POST', '/api/v1/subscribers/customer-42/inbox-token', undefined],
      ] as const) {
        const response = await auth.request(method, url, body, token);
        expect([401, 403]).toContain(response.statusCode);
      }
    });
  });
});
