import { randomBytes } from 'node:crypto';
import { createTestAmqp, testLogger } from '@herald/test-support';
import { buildApp, type NotificationApp } from '../src/app';
import { defaultEventWebhookSettings } from '../src/config';
import { encryptStoredSecrets } from '../src/event-webhooks/domain/encrypt-stored-secrets';
import { SecretBox } from '../src/event-webhooks/domain/secret-box';
import { generateSecret } from '../src/event-webhooks/domain/signing';
import { EventReceiver, verifySignature } from './event-receiver';
import { startHarness, type Harness, type Json } from './harness';

/*
 * The endpoints' signing secrets are encrypted at rest (WEBHOOK_SECRETS_KEY,
 * AES-256-GCM): what the API creates is stored sealed, and an endpoint
 * written in plaintext by an earlier version keeps signing, and is sealed in
 * place when an instance starts. Real MongoDB, a real receiver on 127.0.0.1.
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
    expect(stored.secret).toMatch(/^enc:v1:/);
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
    const broker = await createTestAmqp('notif-event-webhooks-at-rest-2');
    let other: NotificationApp | undefined;
    try {
      other = await buildApp({
        logger: testLogger(),
        mongo: h.mongo.connection,
        amqp: broker.client,
        verifier: h.verifier,
        settings: { eventWebhooks },
      });
      await other.ready();
    } finally {
      await other?.close();
      await broker.cleanup();
    }
    const sealed: Json = await h.models.eventWebhookEndpoints.collection.findOne({ _id: id as never });
    expect(sealed.secret).toMatch(/^enc:v1:/);
    expect(sealed.previousSecrets[0].secret).toMatch(/^enc:v1:/);
    expect(box.open(sealed.secret)).toBe(secret);
    expect(box.open(sealed.previousSecrets[0].secret)).toBe(previous);
    expect(sealed.previousSecrets[0].expiresAt).toEqual(expiresAt);
    expect(JSON.stringify(sealed)).not.toContain(secret.slice('whsec_'.length));

    // still signing the same
    const after = await deliver(id);
    expect(verifySignature(secret, after)).toBe(true);
    expect(verifySignature(previous, after)).toBe(true);

    // idempotent: running it again changes nothing
    expect(await encryptStoredSecrets(h.models.eventWebhookEndpoints, key)).toBe(0);
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

  it('does not sign with a secret sealed under another key: the pass fails, nothing is sent', async () => {
    const id = await insertEndpointAsStored(
      '/other-key',
      new SecretBox(randomBytes(32)).seal(generateSecret()),
    );
    const deliveryId = await recordDelivery(id);
    await expect(h.app.eventWebhooks.runOnce()).rejects.toThrow(/another WEBHOOK_SECRETS_KEY/);
    expect(receiver.received.some((delivery) => delivery.id === deliveryId)).toBe(false);
    await h.models.eventWebhookEndpoints.deleteOne({ _id: id });
    await h.models.eventWebhookDeliveries.deleteOne({ _id: deliveryId });
  });
});
