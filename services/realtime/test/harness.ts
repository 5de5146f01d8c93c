import { randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import {
  io as connectSocket,
  type Socket as ClientSocket,
  type SocketOptions,
  type ManagerOptions,
} from 'socket.io-client';
import { AmqpClient } from '@herald/amqp';
import {
  createMessage,
  MessageTypes,
  SOCKET_IO_PATH,
  type NotificationChange,
  type NotificationSummary,
  type UserSnapshot,
} from '@herald/contracts';
import {
  createStaticKeyResolver,
  createTokenVerifier,
  type HttpApp,
  type TokenVerifier,
} from '@herald/runtime/http';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TestTokenIssuer,
  createTestAmqp,
  testAmqpUrl,
  testLogger,
  waitFor,
} from '@herald/test-support';
import { buildApp, type RealtimeSettings } from '../src/app';
import { httpNotificationFeed } from '../src/catch-up/notification-feed';
import { type Timers } from '../src/sockets/token-expiry';
import {
  startFakeNotificationApi,
  type FakeNotificationApi,
  type StoredNotification,
} from './support/fake-notification-api';
import { InboxTokenIssuer } from './support/inbox-tokens';

export interface Instance {
  app: HttpApp;
  url: string;
  amqp: AmqpClient;
  settings: RealtimeSettings;
  /** closes the app, then its AMQP connection, as server.ts does */
  close(): Promise<void>;
}

const baseSettings = (): RealtimeSettings => ({
  instanceId: `test-${randomUUID().slice(0, 8)}`,
  maxConnectionsPerUser: 10,
  maxHttpBufferBytes: 16 * 1024,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  maxBufferedPackets: 500,
  reauthLeadMs: 60_000,
  catchUpMaxItems: 500,
  prefetch: 50,
  queueMaxLength: 10_000,
  knownAccountsMax: 1000,
  trustedProxies: 'loopback',
});

/**
 * The one way realtime's tests start it:
 *
 *   const harness = await startHarness('realtime-push');
 *   const instance = await harness.startInstance();
 *   afterAll(() => harness.cleanup());
 */
export function startHarness(suite: string): Promise<RealtimeHarness> {
  return RealtimeHarness.start(suite);
}

/**
 * One suite's world: a broker namespace with a publisher in it, a token
 * issuer standing in for auth, a fake notification API, and any number of
 * realtime instances, each with its own AmqpClient on the same namespace
 * (as separate processes would be).
 */
export class RealtimeHarness {
  readonly issuer = new TestTokenIssuer();
  /** stands in for auth's inbox tokens (`POST /subscribers/{externalId}/inbox-token`) */
  readonly inboxIssuer = new InboxTokenIssuer();
  /** What an instance verifies with: auth's access tokens and inbox tokens, as one JWKS with both keys would. */
  verifier(): TokenVerifier {
    return createTokenVerifier({
      keys: createStaticKeyResolver({
        [this.issuer.kid]: this.issuer.publicJwk,
        [this.inboxIssuer.kid]: this.inboxIssuer.publicJwk,
      }),
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    });
  }
  private readonly instances: Instance[] = [];
  private readonly clients: ClientSocket[] = [];

  private constructor(
    readonly publisher: AmqpClient,
    readonly namespace: string,
    readonly api: FakeNotificationApi,
    /** which user each token belongs to, shared with the fake API */
    private readonly tokenOwners: Map<string, string>,
    private readonly cleanupAmqp: () => Promise<void>,
  ) {}

  static async start(suite: string): Promise<RealtimeHarness> {
    const amqp = await createTestAmqp(suite);
    const owners = new Map<string, string>();
    const api = await startFakeNotificationApi((authorization) =>
      owners.get(authorization?.replace(/^Bearer /, '') ?? ''),
    );
    return new RealtimeHarness(amqp.client, amqp.namespace, api, owners, () => amqp.cleanup());
  }

  /** `timers`: what the instance's token expiry runs on (manual timers to move the time). */
  async startInstance(
    overrides: Partial<RealtimeSettings> = {},
    options: { timers?: Timers } = {},
  ): Promise<Instance> {
    const settings = { ...baseSettings(), ...overrides };
    const logger = testLogger();
    const amqp = new AmqpClient({
      url: testAmqpUrl(),
      logger,
      connectionName: `${this.namespace}-${settings.instanceId}`,
      namespace: this.namespace,
      retry: this.publisher.retryPolicy,
    });
    await amqp.waitUntilReady();
    const app = await buildApp({
      logger,
      verifier: this.verifier(),
      amqp,
      notificationFeed: httpNotificationFeed({ baseUrl: this.api.url, timeoutMs: 2000, pageSize: 100 }),
      settings,
      timers: options.timers,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    let closed = false;
    const instance: Instance = {
      app,
      url,
      amqp,
      settings,
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
        await amqp.close(1000);
      },
    };
    this.instances.push(instance);
    return instance;
  }

  /** A token for `userId`, known to the fake notification API as that user's. */
  token(userId: string, claims: { role?: 'user' | 'admin'; expiresInSeconds?: number } = {}): string {
    const token = this.issuer.sign({ sub: userId, ...claims });
    this.tokenOwners.set(token, userId);
    return token;
  }

  /**
   * An inbox token for the application's subscriber `externalId`, known to
   * the fake notification API as the inbox of `sub:<externalId>`.
   */
  inboxToken(externalId: string, options: { expiresInSeconds?: number } = {}): string {
    const token = this.inboxIssuer.sign(externalId, options);
    this.tokenOwners.set(token, `sub:${externalId}`);
    return token;
  }

  /** A socket.io client that does not connect until asked, and does not reconnect unless asked. */
  client(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
    const socket = connectSocket(url, {
      path: SOCKET_IO_PATH,
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      autoConnect: false,
      ...options,
    });
    this.clients.push(socket);
    return socket;
  }

  /** Connects a client for `userId` and resolves once the server accepted it. */
  async connectAs(
    url: string,
    userId: string,
    options: Partial<ManagerOptions & SocketOptions> = {},
  ): Promise<ClientSocket> {
    const socket = this.client(url, { auth: { token: this.token(userId) }, ...options });
    await connected(socket);
    return socket;
  }

  async publishCreated(
    userId: string,
    notification: NotificationSummary,
    extra: Record<string, unknown> = {},
  ) {
    const message = createMessage(
      MessageTypes.notificationCreated,
      { userId, notification, ...extra },
      { correlationId: `corr-${notification.id}` },
    );
    await this.publisher.publish(
      this.publisher.names.exchanges.events,
      MessageTypes.notificationCreated,
      message,
    );
    return message;
  }

  /** Many notifications' creation in one `notifications.created`, as the notification service's accept path publishes them. */
  async publishCreatedBatch(items: { userId: string; notification: NotificationSummary }[]) {
    const message = createMessage(
      MessageTypes.notificationsCreated,
      { items: items.map((item) => ({ ...item, correlationId: `corr-${item.notification.id}` })) },
      { correlationId: `batch-${items.length}` },
    );
    await this.publisher.publish(
      this.publisher.names.exchanges.events,
      MessageTypes.notificationsCreated,
      message,
    );
    return message;
  }

  async publishUpdated(
    userId: string,
    notificationId: string,
    change: NotificationChange,
    unreadCount?: number,
  ) {
    const message = createMessage(
      MessageTypes.notificationUpdated,
      { userId, notificationId, change, ...(unreadCount === undefined ? {} : { unreadCount }) },
      { correlationId: `corr-${notificationId}` },
    );
    await this.publisher.publish(
      this.publisher.names.exchanges.events,
      MessageTypes.notificationUpdated,
      message,
    );
    return message;
  }

  /** auth's `user.updated` for `userId`: the whole account as auth sees it after a change */
  async publishUserUpdated(
    userId: string,
    change: Partial<UserSnapshot> = {},
    options: { occurredAt?: Date } = {},
  ) {
    const snapshot: UserSnapshot = {
      userId,
      email: `${userId}@example.com`,
      name: userId,
      role: 'user',
      emailVerified: true,
      ...change,
    };
    const message = createMessage(MessageTypes.userUpdated, snapshot, {
      correlationId: `corr-user-${userId}`,
      occurredAt: options.occurredAt,
    });
    await this.publisher.publish(this.publisher.names.exchanges.events, MessageTypes.userUpdated, message);
    return message;
  }

  async cleanup(): Promise<void> {
    for (const socket of this.clients.splice(0)) socket.disconnect();
    await Promise.all(this.instances.splice(0).map((instance) => instance.close().catch(() => undefined)));
    await this.api.close();
    await this.cleanupAmqp();
  }
}

let sequence = 0;
/** A notification as the notification service would announce it, `createdAt` strictly increasing. */
export function aNotification(overrides: Partial<NotificationSummary> = {}): NotificationSummary {
  sequence += 1;
  return {
    id: `n-${randomUUID().slice(0, 8)}`,
    title: `Notification ${sequence}`,
    body: 'Hello',
    channels: ['in_app'],
    createdAt: new Date(Date.now() + sequence).toISOString(),
    read: false,
    statuses: { in_app: 'delivered' },
    ...overrides,
  };
}

/** The same notification as the inbox API lists it. */
export const stored = (notification: NotificationSummary): StoredNotification => ({ ...notification });

export function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
    socket.connect();
  });
}

/** Resolves with the `connect_error` the server answered, and fails if the socket connects instead. */
export function refused(socket: ClientSocket): Promise<Error & { data?: { code: string; status: number } }> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('the server accepted the connection')));
    socket.once('connect_error', (error) =>
      resolve(error as Error & { data?: { code: string; status: number } }),
    );
    socket.connect();
  });
}

/** Everything a socket receives for `event`, in order. */
export function record<T = unknown>(socket: ClientSocket, event: string): T[] {
  const received: T[] = [];
  socket.on(event, (payload: T) => received.push(payload));
  return received;
}

export async function metricValue(app: HttpApp, line: RegExp): Promise<number | undefined> {
  const text = (await app.inject({ url: '/metrics' })).body;
  const match = text.split('\n').find((row) => line.test(row));
  return match === undefined ? undefined : Number(match.split(' ').pop());
}

export { waitFor };
