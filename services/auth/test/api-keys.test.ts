import { createHash } from 'node:crypto';
import { AmqpClient } from '@herald/amqp';
import { createLogger } from '@herald/runtime';
import { waitFor } from '@herald/test-support';
import { EventOutbox } from '../src/outbox/domain/outbox';
import {
  adminAccessToken,
  createApiKey,
  LogCapture,
  startHarness,
  TEST_ADMIN,
  type AuthHarness,
} from './harness';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const secretOf = (key: string) => key.slice('hk_'.length + 16 + 1);

describe('API keys', () => {
  let auth: AuthHarness;
  let adminToken: string;

  beforeAll(async () => {
    auth = await startHarness('auth-api-keys', {
      env: { ...TEST_ADMIN, API_KEY_RATE_LIMIT_PER_SECOND: '1000' },
    });
    adminToken = await adminAccessToken(auth);
  });
  afterAll(() => auth.close());

  const upsert = (key: string, externalId = 'customer-1') =>
    auth.request('PUT', `/api/v1/subscribers/${externalId}`, { name: 'Ada' }, key);

  it('creates a key, shows its secret once, and publishes it hashed in apikey.upserted', async () => {
    const created = await auth.request(
      'POST',
      '/api/v1/api-keys',
      { name: 'shop backend', scopes: ['notifications:send', 'subscribers:write'] },
      adminToken,
    );
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const body = created.json();
    expect(body.key).toMatch(/^hk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(body).toMatchObject({
      id: body.key.slice(3, 19),
      name: 'shop backend',
      prefix: `hk_${body.key.slice(3, 19)}_…`,
      scopes: ['notifications:send', 'subscribers:write'],
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });

    const event = await waitFor(() =>
      auth.events.ofType('apikey.upserted').find((message) => message.payload.keyId === body.id),
    );
    expect(event.payload).toMatchObject({
      keyId: body.id,
      scopes: ['notifications:send', 'subscribers:write'],
      secretHash: sha256(secretOf(body.key)),
      revision: 1,
    });
    expect(JSON.stringify(event)).not.toContain(secretOf(body.key));
    // the key works at once, here
    expect((await upsert(body.key)).statusCode).toBe(201);
  });

  it.each([
    ['an unknown scope', { name: 'k', scopes: ['notifications:send', 'everything'] }, '/body/scopes/1'],
    ['no scope', { name: 'k', scopes: [] }, '/body/scopes'],
    ['a blank name', { name: ' ', scopes: ['admin'] }, '/body/name'],
    [
      'an expiry in the past',
      { name: 'k', scopes: ['admin'], expiresAt: '2020-01-01T00:00:00Z' },
      '/body/expiresAt',
    ],
    ['an unknown field', { name: 'k', scopes: ['admin'], secret: 'mine' }, '/body/secret'],
  ])('answers 400 problem+json for %s', async (_, body, field) => {
    const response = await auth.request('POST', '/api/v1/api-keys', body, adminToken);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('is for admins only: a user, a key without admin and an inbox token get 403', async () => {
    const user = await auth.signUp('not-an-admin@example.com');
    const sender = await createApiKey(auth, adminToken, ['notifications:send', 'subscribers:write']);
    await upsert(sender.key, 'for-inbox');
    const inbox = (
      await auth.request('POST', '/api/v1/subscribers/for-inbox/inbox-token', undefined, sender.key)
    ).json().token;
    for (const token of [user.accessToken, sender.key, inbox]) {
      const response = await auth.request('GET', '/api/v1/api-keys', undefined, token);
      expect(response.statusCode).toBe(403);
    }
  });

  it('lets a key with the admin scope manage keys', async () => {
    const admin = await createApiKey(auth, adminToken, ['admin']);
    const made = await createApiKey(auth, admin.key, ['templates:read']);
    expect(
      (await auth.request('GET', `/api/v1/api-keys/${made.id}`, undefined, admin.key)).json(),
    ).toMatchObject({
      id: made.id,
      scopes: ['templates:read'],
    });
  });

  it('lists keys newest first with a cursor, never with a hash or a secret', async () => {
    const made = [];
    for (let i = 0; i < 3; i += 1) {
      made.push(await createApiKey(auth, adminToken, ['notifications:read']));
      auth.clock.advance(1_000);
    }
    const first = await auth.request('GET', '/api/v1/api-keys?limit=2', undefined, adminToken);
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((key: { id: string }) => key.id)).toEqual([made[2]!.id, made[1]!.id]);
    const second = await auth.request(
      'GET',
      `/api/v1/api-keys?limit=2&cursor=${first.json().nextCursor}`,
      undefined,
      adminToken,
    );
    expect(second.json().items[0].id).toBe(made[0]!.id);
    for (const page of [first, second]) {
      expect(page.body).not.toMatch(/secretHash|"key"/);
      for (const key of made) expect(page.body).not.toContain(secretOf(key.key));
    }
    const bad = await auth.request('GET', '/api/v1/api-keys?cursor=nonsense', undefined, adminToken);
    expect(bad.statusCode).toBe(400);
  });

  it('answers 404 for an unknown key id and 400 for a malformed one', async () => {
    expect(
      (await auth.request('GET', '/api/v1/api-keys/0123456789abcdef', undefined, adminToken)).statusCode,
    ).toBe(404);
    expect((await auth.request('GET', '/api/v1/api-keys/nope', undefined, adminToken)).statusCode).toBe(400);
  });

  it('refuses an expired key with 401 invalid_api_key', async () => {
    const expiresAt = new Date(auth.clock.now().getTime() + 60_000).toISOString();
    const key = await createApiKey(auth, adminToken, ['subscribers:write'], { expiresAt });
    expect((await upsert(key.key)).statusCode).toBeLessThan(300);
    auth.clock.advance(61_000);
    const refused = await upsert(key.key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'invalid_api_key' });
  });

  it('refuses a revoked key at once, even right after it was used (and cached), and says so in an event', async () => {
    const key = await createApiKey(auth, adminToken, ['subscribers:write']);
    expect((await upsert(key.key)).statusCode).toBeLessThan(300);
    const revoked = await auth.request('POST', `/api/v1/api-keys/${key.id}/revoke`, undefined, adminToken);
    expect(revoked.statusCode).toBe(204);
    const refused = await upsert(key.key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'invalid_api_key' });

    const event = await waitFor(() =>
      auth.events
        .ofType('apikey.upserted')
        .find((message) => message.payload.keyId === key.id && message.payload.revokedAt),
    );
    expect(event.payload.revision).toBe(2);
    // revoking again changes nothing
    expect(
      (await auth.request('POST', `/api/v1/api-keys/${key.id}/revoke`, undefined, adminToken)).statusCode,
    ).toBe(204);
    const stored = await auth.models.apiKeys.findById(key.id).lean();
    expect(stored!.revision).toBe(2);
    const listed = await auth.request('GET', `/api/v1/api-keys/${key.id}`, undefined, adminToken);
    expect(listed.json().revokedAt).toEqual(expect.any(String));
    expect(
      (await auth.request('POST', `/api/v1/api-keys/${key.id}/rotate`, {}, adminToken)).json(),
    ).toMatchObject({ code: 'api_key_revoked' });
  });

  it('rotates a key: a new secret, same id and scopes; the old secret stops at once', async () => {
    const key = await createApiKey(auth, adminToken, ['subscribers:write']);
    const rotated = await auth.request('POST', `/api/v1/api-keys/${key.id}/rotate`, {}, adminToken);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json()).toMatchObject({ id: key.id, scopes: ['subscribers:write'] });
    expect(rotated.json().key).not.toBe(key.key);
    expect((await upsert(key.key)).statusCode).toBe(401);
    expect((await upsert(rotated.json().key)).statusCode).toBeLessThan(300);
    const event = await waitFor(() =>
      auth.events
        .ofType('apikey.upserted')
        .find((message) => message.payload.keyId === key.id && message.payload.revision === 2),
    );
    expect(event.payload.secretHash).toBe(sha256(secretOf(rotated.json().key)));
  });

  it('keeps the old secret working through a rotation grace period, then stops it', async () => {
    const key = await createApiKey(auth, adminToken, ['subscribers:write']);
    const rotated = await auth.request(
      'POST',
      `/api/v1/api-keys/${key.id}/rotate`,
      { gracePeriodSeconds: 300 },
      adminToken,
    );
    expect((await upsert(key.key)).statusCode).toBeLessThan(300);
    expect((await upsert(rotated.json().key)).statusCode).toBeLessThan(300);
    auth.clock.advance(301_000);
    expect((await upsert(key.key)).statusCode).toBe(401);
    expect((await upsert(rotated.json().key)).statusCode).toBeLessThan(300);
  });

  it('records lastUsedAt at most once a minute per key', async () => {
    const key = await createApiKey(auth, adminToken, ['subscribers:write']);
    const lastUsed = async () =>
      (await auth.request('GET', `/api/v1/api-keys/${key.id}`, undefined, adminToken)).json().lastUsedAt;
    const firstUse = auth.clock.now();
    await upsert(key.key);
    const recorded = await waitFor(lastUsed);
    expect(new Date(recorded).getTime()).toBeGreaterThanOrEqual(firstUse.getTime());

    auth.clock.advance(30_000);
    await upsert(key.key);
    expect(await lastUsed()).toBe(recorded);

    auth.clock.advance(31_000);
    await upsert(key.key);
    await waitFor(async () => (await lastUsed()) !== recorded, { description: 'lastUsedAt moved on' });
  });

  it('refuses a key in a query string with 400 api_key_in_query', async () => {
    const key = await createApiKey(auth, adminToken, ['subscribers:write']);
    for (const query of [`api_key=${key.key}`, `apiKey=${key.key}`, `key=${key.key}`]) {
      const response = await auth.request('GET', `/api/v1/subscribers?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'api_key_in_query' });
    }
  });

  it('answers 401 invalid_api_key for a malformed or unknown key, never a 5xx', async () => {
    for (const key of ['hk_', 'hk_0123456789abcdef_short', `hk_0123456789abcdef_${'A'.repeat(43)}`]) {
      const response = await upsert(key);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'invalid_api_key' });
    }
  });

  it('never shows a secret in a response after creation, nor in any log line', async () => {
    const keys = await auth.models.apiKeys.find({}, { _id: 1 }).lean();
    expect(keys.length).toBeGreaterThan(5);
    const createdBodies = auth.bodies.filter((body) => /"key":"hk_/.test(body));
    const secrets = createdBodies.map((body) => secretOf(JSON.parse(body).key as string));
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(auth.bodies.filter((body) => body.includes(secret))).toHaveLength(1);
      expect(auth.logs.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(auth.logs.lines.filter((line) => line.includes('hk_'))).toEqual([]);
  });
});

describe('API keys: the rate limit and a broker outage', () => {
  let auth: AuthHarness;
  let adminToken: string;

  beforeAll(async () => {
    auth = await startHarness('auth-api-keys-limits', {
      env: { ...TEST_ADMIN, API_KEY_RATE_LIMIT_PER_SECOND: '2', OUTBOX_RELAY_INTERVAL_MS: '600000' },
    });
    adminToken = await adminAccessToken(auth);
  });
  afterAll(() => auth.close());

  it('answers 429 rate_limited with Retry-After past the per-key rate, until the clock moves on', async () => {
    const key = await createApiKey(auth, adminToken, ['subscribers:write']);
    const list = () => auth.request('GET', '/api/v1/subscribers', undefined, key.key);
    expect((await list()).statusCode).toBe(200);
    expect((await list()).statusCode).toBe(200);
    const limited = await list();
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'rate_limited' });
    expect(limited.headers['retry-after']).toBe('1');
    auth.clock.advance(1_000);
    expect((await list()).statusCode).toBe(200);
  });

  it('keeps apikey.upserted through a broker outage and publishes it once the relay runs', async () => {
    const unreachable = new AmqpClient({
      url: 'amqp://guest:guest@127.0.0.1:1',
      logger: createLogger({ name: 'amqp', level: 'silent', format: 'json' }, new LogCapture()),
      connectionName: 'auth-api-keys-down',
      namespace: auth.amqp.names.namespace,
      publishTimeoutMs: 300,
      reconnectSeconds: 60,
    });
    const brokerDown = await startHarness('auth-api-keys-limits', {
      shareWith: auth,
      amqp: unreachable,
      env: { ...TEST_ADMIN, OUTBOX_RELAY_INTERVAL_MS: '60000' },
    });
    let keyId: string;
    try {
      keyId = (await createApiKey(brokerDown, adminToken, ['notifications:send'])).id;
      await waitFor(() => brokerDown.logs.lines.some((line) => line.includes('relay will retry')));
      const stored = await auth.models.apiKeys.findById(keyId).lean();
      expect(stored!.outbox.map((entry) => entry.routingKey)).toEqual(['apikey.upserted']);
    } finally {
      await brokerDown.app.close();
      await unreachable.close(100).catch(() => undefined);
    }
    // the broker is back: the relay of a running instance publishes it
    auth.clock.advance(600_001);
    const relay = new EventOutbox(
      auth.models.apiKeys,
      auth.amqp,
      createLogger({ name: 'relay', level: 'silent', format: 'json' }, new LogCapture()),
      600_000,
      auth.clock.now,
    );
    expect(await relay.relayOnce()).toBe(1);
    await waitFor(() =>
      auth.events.ofType('apikey.upserted').some((message) => message.payload.keyId === keyId),
    );
    expect((await auth.models.apiKeys.findById(keyId).lean())!.outbox).toEqual([]);
  });
});
