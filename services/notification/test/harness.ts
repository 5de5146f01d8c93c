import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import amqplib, { type Channel as AmqpChannel, type ChannelModel } from 'amqplib';
import { Types } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import {
  EventRoutingKeys,
  MessageTypes,
  createMessage,
  type ApiKeySnapshot,
  type SubscriberSnapshot,
  type UserSnapshot,
} from '@herald/contracts';
import {
  createStaticKeyResolver,
  createTokenVerifier,
  generateApiKey,
  INBOX_TOKEN_TYPE,
  type TokenVerifier,
} from '@herald/runtime/http';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TestTokenIssuer,
  connectTestMongo,
  createTestAmqp,
  testAmqpUrl,
  testLogger,
  waitFor,
  type TestMongo,
} from '@herald/test-support';
import { buildApp } from '../src/app';
import { type ServiceSettings } from '../src/config';
import { fullHistory } from '../src/notifications/domain/views';

/** Parsed JSON as tests read it: assertions, not the compiler, check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A user snapshot as auth sends it. */
export type TestUserSnapshot = UserSnapshot;

/** One notification's creation as an inbox (realtime) receives it, from either message (see `drainCreated`). */
export interface CreatedSeen {
  userId: string;
  notification: Json;
  correlationId: string;
  /** the message it came in: `notifications.created` (a batch) or `notification.created` (alone) */
  via: 'notifications.created' | 'notification.created';
  messageId: string;
}

export interface HarnessOptions {
  settings?: Partial<ServiceSettings>;
  now?: () => Date;
  /** an AmqpClient for the app other than the harness's own (e.g. through a proxy) */
  appAmqp?: (namespace: string) => AmqpClient;
  /** DNS for webhook targets (default: the system's) */
  resolveHost?: (host: string) => Promise<string[]>;
}

/**
 * Stands in for auth's inbox tokens (`typ: inbox`, `sub: sub:<externalId>`),
 * signed with a key of its own that the harness's verifier also trusts (the
 * test issuer signs access tokens only). ES256 with node:crypto.
 */
class InboxTokenSigner {
  readonly kid = `inbox-${randomUUID().slice(0, 8)}`;
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly publicJwk = this.keys.publicKey.export({ format: 'jwk' });

  sign(subscriberId: string, expiresInSeconds = 900): string {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'ES256', kid: this.kid, typ: 'JWT' })}.${encode({
      typ: INBOX_TOKEN_TYPE,
      sub: subscriberId,
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE,
      iat: now,
      exp: now + expiresInSeconds,
    })}`;
    const signature = sign('sha256', Buffer.from(unsigned), {
      key: this.keys.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${unsigned}.${signature.toString('base64url')}`;
  }
}

/** Trusts the test issuer's access tokens and the inbox-token signer's tokens, as auth's JWKS would. */
function verifierFor(issuer: TestTokenIssuer, inbox: InboxTokenSigner): TokenVerifier {
  return createTokenVerifier({
    keys: createStaticKeyResolver({ [issuer.kid]: issuer.publicJwk, [inbox.kid]: inbox.publicJwk }),
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
  });
}

/** A key as a test holds it: the secret (`hk_…`) and the snapshot auth published. */
export interface TestApiKey {
  key: string;
  snapshot: ApiKeySnapshot;
}

/**
 * The real app on the run's MongoDB and RabbitMQ, in a database and an AMQP
 * namespace of its own, plus what tests need to act like auth (tokens,
 * user events) and the worker (status reports), and to see what the app
 * published.
 */
export async function startHarness(name: string, options: HarnessOptions = {}) {
  const mongo: TestMongo = await connectTestMongo(name);
  const broker = await createTestAmqp(name);
  const issuer = new TestTokenIssuer();
  const inboxTokens = new InboxTokenSigner();
  const verifier = verifierFor(issuer, inboxTokens);
  const appAmqp = options.appAmqp?.(broker.namespace) ?? broker.client;
  const app = await buildApp({
    logger: testLogger(),
    mongo: mongo.connection,
    amqp: appAmqp,
    verifier,
    settings: {
      relayIntervalMs: 100,
      relayResumeIntervalMs: 100,
      outboxGraceMs: 1_000,
      outboxLeaseMs: 2_000,
      ...options.settings,
    },
    now: options.now,
    ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
  });
  await app.ready();
  const connection: ChannelModel = await amqplib.connect(testAmqpUrl());
  const channel: AmqpChannel = await connection.createChannel();
  const tapQueues: string[] = [];
  // The consumer declares its queue once connected; events published before that would be unroutable.
  async function consumerCount(queue: string): Promise<number> {
    // A probe channel of its own: checking a queue that does not exist yet closes the channel.
    const probe = await connection.createChannel();
    probe.on('error', () => undefined);
    try {
      return (await probe.checkQueue(queue)).consumerCount;
    } finally {
      await probe.close().catch(() => undefined);
    }
  }
  // The consumer declares its queue once connected; events published before that would be unroutable.
  await waitFor(async () => (await consumerCount(broker.client.names.queues.notificationEvents)) > 0, {
    description: 'the events consumer',
    timeoutMs: 15_000,
    intervalMs: 100,
  });

  const harness = {
    app,
    mongo,
    broker,
    names: broker.client.names,
    issuer,
    /** trusts access tokens and inbox tokens, for a second app instance */
    verifier,
    models: app.context.models,

    token(sub: string, role: 'user' | 'admin' = 'user') {
      return issuer.sign({ sub, role });
    },

    /** An inbox token for `sub:<externalId>`, as auth mints them. */
    inboxToken(externalId: string) {
      return inboxTokens.sign(`sub:${externalId}`);
    },

    /**
     * Auth creating an API key: a real `hk_…` secret, `apikey.upserted` with
     * its SHA-256 on the broker; waits until the read model has it.
     */
    async createApiKey(scopes: ApiKeySnapshot['scopes'], extra: Partial<ApiKeySnapshot> = {}) {
      const generated = generateApiKey();
      const snapshot: ApiKeySnapshot = {
        keyId: generated.keyId,
        name: `key ${generated.keyId}`,
        scopes,
        secretHash: generated.secretHash,
        createdAt: new Date().toISOString(),
        revision: 1,
        ...extra,
      };
      await harness.publishApiKey(snapshot);
      return { key: generated.key, snapshot } satisfies TestApiKey;
    },

    /**
     * Auth's `apikey.upserted` for a snapshot; waits until the read model holds its revision AND
     * this instance's key cache answers with it. The consumer drops the cached copy only after its
     * write is acknowledged: the database alone could show the revision a moment before the
     * consumer gets there, and a request in that moment still meets the old copy.
     */
    async publishApiKey(snapshot: ApiKeySnapshot) {
      await harness.publishEvent(
        EventRoutingKeys.apiKeyUpserted,
        createMessage(MessageTypes.apiKeyUpserted, snapshot, { correlationId: 'test' }),
      );
      await waitFor(
        () => app.context.models.apiKeys.exists({ _id: snapshot.keyId, revision: snapshot.revision }),
        { description: `key ${snapshot.keyId} revision ${snapshot.revision} in the read model` },
      );
      const revokedAt = snapshot.revokedAt ? Date.parse(snapshot.revokedAt) : null;
      await waitFor(
        async () => {
          const seen = await app.context.apiKeys.lookup(snapshot.keyId);
          return (
            seen?.secretHash === snapshot.secretHash && (seen.revokedAt?.getTime() ?? null) === revokedAt
          );
        },
        { description: `key ${snapshot.keyId} revision ${snapshot.revision} in the key cache` },
      );
    },

    /** Auth's `subscriber.upserted`; waits until the read model holds this revision. */
    async upsertSubscriber(
      externalId: string,
      fields: Partial<Omit<SubscriberSnapshot, 'externalId' | 'subscriberId'>> = {},
    ): Promise<SubscriberSnapshot> {
      const at = new Date().toISOString();
      const snapshot: SubscriberSnapshot = {
        externalId,
        subscriberId: `sub:${externalId}`,
        createdAt: at,
        updatedAt: at,
        revision: 1,
        ...fields,
      };
      await harness.publishEvent(
        EventRoutingKeys.subscriberUpserted,
        createMessage(MessageTypes.subscriberUpserted, snapshot, { correlationId: 'test' }),
      );
      await waitFor(
        () => app.context.models.subscribers.exists({ _id: externalId, revision: snapshot.revision }),
        { description: `subscriber ${externalId} revision ${snapshot.revision} in the read model` },
      );
      return snapshot;
    },

    /** Auth's `subscriber.deleted`; waits until the read model holds the tombstone. */
    async deleteSubscriber(externalId: string, revision: number, deletedAt = new Date()) {
      await harness.publishEvent(
        EventRoutingKeys.subscriberDeleted,
        createMessage(
          MessageTypes.subscriberDeleted,
          { externalId, subscriberId: `sub:${externalId}`, deletedAt: deletedAt.toISOString(), revision },
          { correlationId: 'test' },
        ),
      );
      await waitFor(
        () => app.context.models.subscribers.exists({ _id: externalId, revision, deletedAt: { $ne: null } }),
        { description: `subscriber ${externalId} deleted in the read model` },
      );
    },

    async request(
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<Reply> {
      return app.inject({
        method,
        url,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
    },

    /** An admin creating the categories a test sends in: a send must name one that exists. */
    async createCategories(...keys: string[]) {
      for (const key of keys) {
        const created = await harness.request('POST', '/api/v1/categories', {
          token: issuer.sign({ sub: 'category-admin', role: 'admin' }),
          body: { key, name: key },
        });
        if (created.statusCode !== 201 && created.statusCode !== 409) {
          throw new Error(`category ${key}: ${created.statusCode} ${created.body}`);
        }
      }
    },

    /** Publishes an event as another service would, on the events exchange. */
    async publishEvent(
      routingKey: string,
      message: { messageId: string; correlationId: string; type: string },
    ) {
      await broker.client.publish(broker.client.names.exchanges.events, routingKey, message);
    },

    /**
     * Auth registering a user; waits until the read model has it. Verified
     * unless told otherwise: the email, and the phone when there is one.
     */
    async registerUser(overrides: Partial<TestUserSnapshot> = {}): Promise<TestUserSnapshot> {
      const userId = overrides.userId ?? randomUUID();
      const snapshot: TestUserSnapshot = {
        userId,
        email: `${userId.slice(0, 8)}@example.com`,
        name: 'Ada Lovelace',
        role: 'user',
        emailVerified: true,
        ...(overrides.phone ? { phoneVerified: true } : {}),
        ...overrides,
      };
      await harness.publishEvent(
        EventRoutingKeys.userRegistered,
        createMessage(MessageTypes.userRegistered, snapshot, { correlationId: 'test' }),
      );
      await waitFor(() => app.context.models.users.exists({ _id: userId }), {
        description: `user ${userId} in the read model`,
      });
      return snapshot;
    },

    /** A queue of our own bound to the events exchange (under each key given), to see what the app published. */
    async tapEvents(...routingKeys: string[]) {
      const queue = `${broker.namespace}.tap.${randomUUID().slice(0, 8)}`;
      await channel.assertQueue(queue, { durable: false, autoDelete: false });
      for (const routingKey of routingKeys)
        await channel.bindQueue(queue, broker.client.names.exchanges.events, routingKey);
      tapQueues.push(queue);
      return queue;
    },

    /**
     * A tap on the inboxes' events: `notification.created` (a workflow run's notification, on its own)
     * and `notifications.created` (the accept path's batches).
     */
    async tapCreated() {
      return harness.tapEvents(EventRoutingKeys.notificationCreated, EventRoutingKeys.notificationsCreated);
    },

    /** Every notification's creation waiting in a `tapCreated` queue, one entry per notification, in order. */
    async drainCreated(queue: string): Promise<CreatedSeen[]> {
      const messages = await harness.drain(queue);
      return messages.flatMap((message) =>
        message.type === 'notifications.created'
          ? (message.payload.items as Json[]).map((item) => ({
              ...item,
              via: message.type,
              messageId: message.messageId,
            }))
          : [
              {
                ...message.payload,
                correlationId: message.correlationId,
                via: message.type,
                messageId: message.messageId,
              },
            ],
      ) as CreatedSeen[];
    },

    /** Takes every message waiting in a queue, parsed. */
    async drain(queue: string): Promise<Json[]> {
      const messages: Json[] = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (!message) return messages;
        messages.push(JSON.parse(message.content.toString('utf8')) as Json);
      }
    },

    consumerCount,

    /** Whether the confirmation log says every message of this notification was confirmed. */
    async confirmed(id: string | Types.ObjectId): Promise<boolean> {
      const _id = typeof id === 'string' ? new Types.ObjectId(id) : id;
      return (await app.context.models.outboxConfirmations.exists({ ids: _id })) !== null;
    },

    /** The stored notification, its history with the acceptance the views derive (as the API shows it). */
    async stored(id: string | Types.ObjectId): Promise<Json> {
      const record = await app.context.models.notifications.findById(id).lean();
      return record && { ...record, history: fullHistory(record) };
    },

    async messageCount(queue: string): Promise<number> {
      return (await channel.checkQueue(queue)).messageCount;
    },

    async close() {
      // A test may have closed the app already (shutdown tests).
      await app.close().catch(() => undefined);
      if (appAmqp !== broker.client) await appAmqp.close(1000).catch(() => undefined);
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await broker.cleanup(tapQueues);
      await mongo.dropAndClose();
    },
  };
  return harness;
}

export interface Reply {
  statusCode: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  json<T = Json>(): T;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
