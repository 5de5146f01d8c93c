import { randomBytes } from 'node:crypto';
import { createTestAmqp, testLogger } from '@herald/test-support';
import { buildApp, type NotificationApp } from '../src/app';
import { defaultEventWebhookSettings } from '../src/config';
import { EventWebhookDispatcher } from '../src/event-webhooks/domain/dispatcher';
import { resealStoredSecrets } from '../src/event-webhooks/domain/reseal-stored-secrets';
import { SecretBox, keyIdOf } from '../src/event-webhooks/domain/secret-box';
import { generateSecret } from '../src/event-webhooks/domain/signing';
import { EventReceiver, verifySignature } from './event-receiver';
import { startHarness, type Harness, type Json } from './harness';

/*
 * The endpoints' signing secrets are encrypted at rest (WEBHOOK_SECRETS_KEY,
 * AES-256-GCM): what the API creates is stored sealed, and an endpoint
 * written in plaintext by an earlier version keeps signing, and is sealed in
 * place when an instance starts. The key rotates: an instance started with a
 * new key and the old one in WEBHOOK_SECRETS_PREVIOUS_KEYS re-seals every
 * secret under the new key, and signs as before. Real MongoDB, a real
 * receiver on 127.0.0.1.
 */

const ADMIN_ID = 'ewh-at-rest-admin';
const HOUR = 3_600_000;

describe('event webhook secrets at rest', () => {
  let h: Harness;
  let receiver: EventReceiver;
  let admin: string;
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const eventWebhooks = {
    ...defaultEventWebhookSettings,
    allowPrivate: true,
    pollIntervalMs: 600_000,
    cacheMs: 0,
    secretsKey: key,
  };

  beforeAll(async () => {
    receiver = new EventReceiver();
    await receiver.start();
    h = await startHarness('notif-event-webhooks-at-rest', { settings: { eventWebhooks } });
    admin = h.token(ADMIN_ID, 'admin');
  });
  afterAll(async () => {
    await h.close();
    await receiver.stop();
  });

  /** A pending delivery for `endpointId`, due now, as the recorder would write it. */
  async function recordDelivery(endpointId: string): Promise<string> {
    const id = `msg_${randomBytes(12).toString('hex')}`;
    await h.models.eventWebhookDeliveries.collection.insertOne({
      _id: id,
      endpointId,
      notificationId: randomBytes(12).toString('hex'),
      eventType: 'notification.sent',
      body: JSON.stringify({ type: 'notification.sent', data: { id } }),
      order: Date.now(),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(Date.now() - 1_000),
      log: [],
      createdAt: new Date(),
    } as never);
    return id;
  }

  async function deliver(endpointId: string) {
    const id = await recordDelivery(endpointId);
    await h.app.eventWebhooks.runOnce();
    const received = receiver.received.find((delivery) => delivery.id === id);
    expect(received).toBeDefined();
    return received!;
  }

  /** A second instance started on the same database with other settings: its start-up migration runs, then it closes. */
  async function startAndClose(settings: typeof eventWebhooks): Promise<void> {
    const broker = await createTestAmqp(`notif-event-webhooks-at-rest-${randomBytes(3).toString('hex')}`);
    let other: NotificationApp | undefined;
    try {
      other = await buildApp({
        logger: testLogger(),
        mongo: h.mongo.connection,
        amqp: broker.client,
        verifier: h.verifier,
        settings: { eventWebhooks: settings },
      });
      await other.ready();
    } finally {
      await other?.close();
      await broker.cleanup();
    }
  }

  /** A dispatcher as an instance with these settings runs it, on the harness's database. */
  function dispatcherWith(settings: typeof eventWebhooks): EventWebhookDispatcher {
    return new EventWebhookDispatcher({
      endpoints: h.models.eventWebhookEndpoints,
      deliveries: h.models.eventWebhookDeliveries,
      settings,
      resolveHost: h.app.context.resolveHost,
      log: testLogger(),
      now: () => new Date(),
    });
  }

  /** An endpoint document written straight to the collection, as an earlier version (or another key) left it. */
  async function insertEndpointAsStored(
    path: string,
    secret: string,
    previousSecrets: { secret: string; expiresAt: Date }[] = [],
  ): Promise<string> {
    const id = `ep_${randomBytes(12).toString('hex')}`;
    await h.models.eventWebhookEndpoints.collection.insertOne({
      _id: id,
      owner: 'platform',
      url: receiver.url(path),
      eventTypes: ['notification.sent'],
      secret,
      previousSecrets,
      disabled: false,
      consecutiveFailures: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
    } as never);
    return id;
  }

  it('stores a created secret sealed (the plaintext is nowhere in the document) and signs with it', async () => {
    const created = await h.request('POST', '/api/v1/event-webhooks', {
      token: admin,
      body: { url: receiver.url('/created'), eventTypes: ['notification.sent'] },
    });
    expect(created.statusCode).toBe(201);
    const { id, secret } = created.json() as { id: string; secret: string };
    const stored: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    expect(stored.secret).toMatch(new RegExp(`^enc:v2:${keyIdOf(key)}:`));
    expect(JSON.stringify(stored)).not.toContain(secret.slice('whsec_'.length));
    expect(box.open(stored.secret)).toBe(secret);
    expect(verifySignature(secret, await deliver(id))).toBe(true);
  });

  it('signs with a plaintext secret from an earlier version, and a starting instance seals it in place (once)', async () => {
    const secret = generateSecret();
    const previous = generateSecret();
    const expiresAt = new Date(Date.now() + HOUR);
    const id = await insertEndpointAsStored('/legacy', secret, [{ secret: previous, expiresAt }]);

    // before any migration: read as it is
    const before = await deliver(id);
    expect(verifySignature(secret, before)).toBe(true);
    expect(verifySignature(previous, before)).toBe(true);

    // an instance starting seals it
    await startAndClose(eventWebhooks);
    const sealed: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    expect(sealed.secret).toMatch(new RegExp(`^enc:v2:${keyIdOf(key)}:`));
    expect(sealed.previousSecrets[0].secret).toMatch(new RegExp(`^enc:v2:${keyIdOf(key)}:`));
    expect(box.open(sealed.secret)).toBe(secret);
    expect(box.open(sealed.previousSecrets[0].secret)).toBe(previous);
    expect(sealed.previousSecrets[0].expiresAt).toEqual(expiresAt);
    expect(JSON.stringify(sealed)).not.toContain(secret.slice('whsec_'.length));

    // still signing the same
    const after = await deliver(id);
    expect(verifySignature(secret, after)).toBe(true);
    expect(verifySignature(previous, after)).toBe(true);

    // idempotent: running it again changes nothing
    expect(await resealStoredSecrets(h.models.eventWebhookEndpoints, box)).toEqual({
      resealed: 0,
      unreadable: [],
    });
    const again: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    expect(again.secret).toBe(sealed.secret);
    expect(again.previousSecrets[0].secret).toBe(sealed.previousSecrets[0].secret);
  });

  it('rotating a plaintext secret keeps the old one sealed as the previous secret', async () => {
    const secret = generateSecret();
    const id = await insertEndpointAsStored('/rotated', secret);
    const rotated = await h.request('POST', `/api/v1/event-webhooks/${id}/rotate-secret`, { token: admin });
    expect(rotated.statusCode).toBe(200);
    const stored: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    expect(box.open(stored.secret)).toBe(rotated.json().secret);
    expect(box.open(stored.previousSecrets[0].secret)).toBe(secret);
    const delivery = await deliver(id);
    expect(verifySignature(rotated.json().secret, delivery)).toBe(true);
    expect(verifySignature(secret, delivery)).toBe(true);
  });

  it('rotates WEBHOOK_SECRETS_KEY: an instance started with the new key and the old one as previous re-seals every secret, and signs the same', async () => {
    const created = await h.request('POST', '/api/v1/event-webhooks', {
      token: admin,
      body: { url: receiver.url('/key-rotation'), eventTypes: ['notification.sent'] },
    });
    const { id, secret } = created.json() as { id: string; secret: string };
    const rotatedSecret = await h.request('POST', `/api/v1/event-webhooks/${id}/rotate-secret`, {
      token: admin,
    });
    const current = (rotatedSecret.json() as { secret: string }).secret;
    const newKey = randomBytes(32);
    const rotated = { ...eventWebhooks, secretsKey: newKey, previousSecretsKeys: [key] };

    // before any instance re-sealed it, an instance holding both keys signs with both secrets
    const deliveryId = await recordDelivery(id);
    await dispatcherWith(rotated).runOnce();
    const before = receiver.received.find((delivery) => delivery.id === deliveryId)!;
    expect(verifySignature(current, before)).toBe(true);
    expect(verifySignature(secret, before)).toBe(true);

    await startAndClose(rotated);
    const stored: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    const underNewKey = new RegExp(`^enc:v2:${keyIdOf(newKey)}:`);
    expect(stored.secret).toMatch(underNewKey);
    expect(stored.previousSecrets[0].secret).toMatch(underNewKey);
    const newBox = new SecretBox(newKey);
    expect(newBox.open(stored.secret)).toBe(current);
    expect(newBox.open(stored.previousSecrets[0].secret)).toBe(secret);

    // the old key can go: an instance with the new key alone signs as before
    const onlyNew = { ...eventWebhooks, secretsKey: newKey, previousSecretsKeys: [] };
    const afterId = await recordDelivery(id);
    await dispatcherWith(onlyNew).runOnce();
    const after = receiver.received.find((delivery) => delivery.id === afterId)!;
    expect(after).toBeDefined();
    expect(verifySignature(current, after)).toBe(true);
    expect(verifySignature(secret, after)).toBe(true);

    // idempotent, and the harness's instance (old key only) no longer opens it
    expect(await resealStoredSecrets(h.models.eventWebhookEndpoints, new SecretBox(newKey))).toEqual({
      resealed: 0,
      unreadable: [],
    });
    await h.models.eventWebhookEndpoints.deleteOne({ _id: id });
    // the start re-sealed the other tests' endpoints too: back under the harness's key (a rotation back)
    const back = await resealStoredSecrets(h.models.eventWebhookEndpoints, new SecretBox(key, [newKey]));
    expect(back.unreadable).toEqual([]);
    expect(back.resealed).toBeGreaterThan(0);
  });

  it('signs nothing with a secret that opens under no key: that attempt fails as secret_unreadable, the others in the pass go, the endpoint is not counted failing', async () => {
    const lost = randomBytes(32);
    const unreadableId = await insertEndpointAsStored(
      '/lost-key',
      new SecretBox(lost).seal(generateSecret()),
    );
    const fine = generateSecret();
    const fineId = await insertEndpointAsStored('/fine', box.seal(fine));

    // a starting instance leaves it as it is, and names it
    const report = await resealStoredSecrets(h.models.eventWebhookEndpoints, box);
    expect(report.unreadable).toEqual([unreadableId]);
    const untouched: Json = await h.models.eventWebhookEndpoints.collection.findOne({
      _id: unreadableId as never,
    });
    expect(untouched.secret).toMatch(new RegExp(`^enc:v2:${keyIdOf(lost)}:`));

    const unreadableDelivery = await recordDelivery(unreadableId);
    const fineDelivery = await recordDelivery(fineId);
    await h.app.eventWebhooks.runOnce();
    expect(receiver.received.some((delivery) => delivery.id === unreadableDelivery)).toBe(false);
    expect(
      verifySignature(
        fine,
        receiver.received.find((delivery) => delivery.id === fineDelivery)!,
      ),
    ).toBe(true);
    const failed: Json = await h.models.eventWebhookDeliveries.collection.findOne({
      _id: unreadableDelivery as never,
    });
    expect(failed.status).toBe('pending');
    expect(failed.attempts).toBe(1);
    expect(failed.log[0].error).toMatch(
      new RegExp(`^secret_unreadable: .*sealed under key ${keyIdOf(lost)}`),
    );
    expect(failed.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
    const endpoint: Json = await h.models.eventWebhookEndpoints.collection.findOne({
      _id: unreadableId as never,
    });
    expect(endpoint.consecutiveFailures).toBe(0);

    // the key that sealed it is back (as a previous key): it signs, and a start re-seals it
    const restored = { ...eventWebhooks, previousSecretsKeys: [lost] };
    await h.models.eventWebhookDeliveries.updateOne(
      { _id: unreadableDelivery },
      { $set: { nextAttemptAt: new Date(Date.now() - 1_000) } },
    );
    await dispatcherWith(restored).runOnce();
    expect(receiver.received.some((delivery) => delivery.id === unreadableDelivery)).toBe(true);
    await startAndClose(restored);
    const resealed: Json = await h.models.eventWebhookEndpoints.collection.findOne({
      _id: unreadableId as never,
    });
    expect(resealed.secret).toMatch(new RegExp(`^enc:v2:${keyIdOf(key)}:`));

    await h.models.eventWebhookEndpoints.deleteMany({ _id: { $in: [unreadableId, fineId] } });
  });

  it('rotating a secret that opens under no key (its key lost) gives the endpoint a working one, the lost one dropped', async () => {
    const lost = randomBytes(32);
    const id = await insertEndpointAsStored(
      '/lost-then-rotated',
      new SecretBox(lost).seal(generateSecret()),
      [{ secret: new SecretBox(lost).seal(generateSecret()), expiresAt: new Date(Date.now() + HOUR) }],
    );
    const rotated = await h.request('POST', `/api/v1/event-webhooks/${id}/rotate-secret`, { token: admin });
    expect(rotated.statusCode).toBe(200);
    const { secret, previousSecretExpiresAt } = rotated.json() as {
      secret: string;
      previousSecretExpiresAt: string | null;
    };
    expect(previousSecretExpiresAt).toBeNull();
    const stored: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    expect(box.open(stored.secret)).toBe(secret);
    expect(stored.previousSecrets).toEqual([]);
    const delivery = await deliver(id);
    expect(verifySignature(secret, delivery)).toBe(true);
    expect(delivery.signature.split(' ')).toHaveLength(1);
    await h.models.eventWebhookEndpoints.deleteOne({ _id: id });
  });
});
