import { EventRoutingKeys, MessageTypes, createMessage } from '@herald/contracts';
import { createTestAmqp, testLogger } from '@herald/test-support';
import { buildApp, type NotificationApp } from '../src/app';
import { startHarness, type Harness } from './harness';

const CACHE_MS = 2_000;

describe('a revoked API key is refused on every instance within seconds', () => {
  let clock = new Date();
  const now = () => clock;
  let h: Harness;
  // A second instance on the same database. Its events queue is in another namespace, so it
  // never gets auth's events: it stands for the instances that did not handle the revocation.
  let other: NotificationApp;
  let otherBroker: Awaited<ReturnType<typeof createTestAmqp>>;

  beforeAll(async () => {
    const settings = { apiKeyCacheMs: CACHE_MS, apiKeyRateLimitPerSecond: 3 };
    h = await startHarness('notif-key-revocation', { now, settings });
    otherBroker = await createTestAmqp('notif-key-revocation-2');
    other = await buildApp({
      logger: testLogger(),
      mongo: h.mongo.connection,
      amqp: otherBroker.client,
      verifier: h.verifier,
      settings,
      now,
    });
    await other.ready();
  });
  afterAll(async () => {
    await other.close();
    await otherBroker.cleanup();
    await h.close();
  });

  // A notification nobody has: 404 proves the key was accepted, 401 that it was not.
  const status = (app: NotificationApp, key: string) =>
    app.inject({
      method: 'GET',
      url: '/api/v1/notifications/0123456789abcdef01234567/status',
      headers: { authorization: `Bearer ${key}` },
    });

  it('refuses it at once where the event arrived, and elsewhere once the cache entry expires', async () => {
    const { key, snapshot } = await h.createApiKey(['notifications:read']);
    expect((await status(h.app, key)).statusCode).toBe(404);
    expect((await status(other, key)).statusCode).toBe(404);

    await h.publishApiKey({ ...snapshot, revokedAt: clock.toISOString(), revision: 2 });
    // The instance that applied the event dropped its cached copy: no clock moved.
    const refused = await status(h.app, key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'invalid_api_key' });

    // The other instance trusts its copy for the rest of the cache's 2 s, and not a moment longer:
    // with the event's way from auth (well under a second), within the 5 s promised.
    expect((await status(other, key)).statusCode).toBe(404);
    clock = new Date(clock.getTime() + CACHE_MS);
    const elsewhere = await status(other, key);
    expect(elsewhere.statusCode).toBe(401);
    expect(elsewhere.json()).toMatchObject({ code: 'invalid_api_key' });
  });

  it('ignores an older snapshot arriving late', async () => {
    const { key, snapshot } = await h.createApiKey(['notifications:read']);
    await h.publishApiKey({ ...snapshot, revokedAt: clock.toISOString(), revision: 3 });
    await h.publishEvent(
      EventRoutingKeys.apiKeyUpserted,
      createMessage(MessageTypes.apiKeyUpserted, { ...snapshot, revision: 2 }, { correlationId: 'late' }),
    );
    // A newer probe through the same queue: once it is applied, the late one was handled before it.
    await h.createApiKey(['notifications:read']);
    clock = new Date(clock.getTime() + CACHE_MS);
    expect((await status(h.app, key)).statusCode).toBe(401);
    const stored = await h.models.apiKeys.findById(snapshot.keyId).lean();
    expect(stored).toMatchObject({ revision: 3, revokedAt: expect.any(Date), createdAt: expect.any(Date) });
  });

  it('refuses a key past its expiry on the service clock', async () => {
    const { key } = await h.createApiKey(['notifications:read'], {
      expiresAt: new Date(clock.getTime() + 60_000).toISOString(),
    });
    expect((await status(h.app, key)).statusCode).toBe(404);
    clock = new Date(clock.getTime() + 60_000);
    const expired = await status(h.app, key);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ code: 'invalid_api_key' });
  });

  it('limits each key to API_KEY_RATE_LIMIT_PER_SECOND on each instance, with Retry-After', async () => {
    const { key } = await h.createApiKey(['notifications:read']);
    const { key: neighbour } = await h.createApiKey(['notifications:read']);
    for (let i = 0; i < 3; i += 1) expect((await status(h.app, key)).statusCode).toBe(404);
    const limited = await status(h.app, key);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // another key has its own bucket; a second later the first has room again
    expect((await status(h.app, neighbour)).statusCode).toBe(404);
    clock = new Date(clock.getTime() + 1_000);
    expect((await status(h.app, key)).statusCode).toBe(404);
  });
});
