import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Writable } from 'node:stream';
import amqplib from 'amqplib';
import { type AmqpClient } from '@herald/amqp';
import { validateKnownMessage, type AnyMessage } from '@herald/contracts';
import { createLogger } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { connectTestMongo, createTestAmqp, testAmqpUrl, waitFor, type TestMongo } from '@herald/test-support';
import { bcryptPasswords, type Passwords } from '../src/accounts/domain/passwords';
import { buildApp } from '../src/app';
import { loadConfig, type Config } from '../src/config';
import { keyRing, type SigningKeyRing } from '../src/keys/domain/signing-keys';
import { authModels } from '../src/models';

/** Every line the app logged, as written (JSON), so tests can search them for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
}

export interface EventCapture {
  messages: AnyMessage[];
  /** messages that broke their contracts schema, with the reasons: must stay empty */
  invalid: { message: unknown; errors: unknown }[];
  /** every user event about one user, in arrival order */
  about(userId: string): AnyMessage[];
  ofType<T extends AnyMessage['type']>(type: T): Extract<AnyMessage, { type: T }>[];
  close(): Promise<void>;
}

/** A queue of our own bound to auth's events (`user.#`, `apikey.#`, `subscriber.#`, `topic.#`) on the suite's events exchange. */
export async function captureUserEvents(amqp: AmqpClient): Promise<EventCapture> {
  const connection = await amqplib.connect(testAmqpUrl());
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  for (const pattern of ['user.#', 'apikey.#', 'subscriber.#', 'topic.#']) {
    await channel.bindQueue(queue, amqp.names.exchanges.events, pattern);
  }
  const messages: AnyMessage[] = [];
  const invalid: EventCapture['invalid'] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const parsed: unknown = JSON.parse(message.content.toString());
      // validated exactly as the notification service's consumer will
      const result = validateKnownMessage(parsed);
      if (result.ok) messages.push(result.value);
      else invalid.push({ message: parsed, errors: result.errors });
    },
    { noAck: true },
  );
  return {
    messages,
    invalid,
    about: (userId) =>
      messages.filter((message) => (message.payload as { userId?: string }).userId === userId),
    ofType: (type) => messages.filter((message) => message.type === type) as never,
    close: async () => {
      await connection.close();
    },
  };
}

export interface Response {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * The service's clock in tests: real time plus an offset the test moves, so
 * expiries and windows pass at once while timers (the outbox relay) still run.
 */
export interface TestClock {
  now: () => Date;
  /** moves the clock forward (or back, with a negative value) */
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(ms) {
      offsetMs += ms;
    },
  };
}

/** One call the service made to its password dependency. */
export type PasswordCall =
  | { op: 'hash'; password: string; result: string }
  | { op: 'matches'; password: string; hash: string; result: boolean };

/** The real bcrypt, with a record of every call, so a test can see what login compared. */
export interface RecordedPasswords extends Passwords {
  calls: PasswordCall[];
}

export function recordedPasswords(cost: number): RecordedPasswords {
  const real = bcryptPasswords(cost);
  const calls: PasswordCall[] = [];
  return {
    calls,
    async hash(password) {
      const result = await real.hash(password);
      calls.push({ op: 'hash', password, result });
      return result;
    },
    async matches(password, hash) {
      const result = await real.matches(password, hash);
      calls.push({ op: 'matches', password, hash, result });
      return result;
    },
  };
}

export interface AuthHarness {
  app: HttpApp;
  clock: TestClock;
  passwords: RecordedPasswords;
  config: Config;
  keys: SigningKeyRing;
  mongo: TestMongo;
  amqp: AmqpClient;
  models: ReturnType<typeof authModels>;
  logs: LogCapture;
  events: EventCapture;
  /** every response body the harness saw, for the secrets check */
  bodies: string[];
  request(
    method: string,
    url: string,
    body?: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** registers and logs in; returns the user and its tokens */
  signUp(email: string, password?: string, extra?: Record<string, unknown>): Promise<SignedUp>;
  close(): Promise<void>;
}

export interface SignedUp {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const TEST_PASSWORD = 'correct horse battery';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    BCRYPT_COST: '4',
    OUTBOX_RELAY_INTERVAL_MS: '200',
    // every test registration comes from the same address
    REGISTER_MAX_PER_IP: '1000',
    ...overrides,
  });
}

export function newEcKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/**
 * The real auth app on the real MongoDB and RabbitMQ, in a database and an
 * AMQP namespace of its own. Pass `shareWith` to start a second instance on
 * the same database and broker namespace (two instances behind a balancer).
 */
export interface HarnessOptions {
  env?: Record<string, string>;
  shareWith?: AuthHarness;
  keys?: SigningKeyRing;
  amqp?: AmqpClient;
}

export async function startHarness(suite: string, options: HarnessOptions = {}): Promise<AuthHarness> {
  const mongo = options.shareWith?.mongo ?? (await connectTestMongo(suite));
  const testAmqp = options.shareWith ? undefined : await createTestAmqp(suite);
  const amqp = options.amqp ?? options.shareWith?.amqp ?? testAmqp!.client;
  const events = options.shareWith?.events ?? (await captureUserEvents(amqp));
  const logs = new LogCapture();
  const config = testConfig(options.env);
  const keys = options.keys ?? options.shareWith?.keys ?? keyRing([newEcKey()]);
  const logger = createLogger({ name: 'auth', level: config.LOG_LEVEL, format: 'json' }, logs);
  // two instances behind a balancer read the same time
  const clock = options.shareWith?.clock ?? testClock();
  const passwords = recordedPasswords(config.BCRYPT_COST);
  const app = await buildApp({
    config,
    logger,
    mongo: mongo.connection,
    amqp,
    keys,
    now: clock.now,
    passwords,
  });
  const bodies: string[] = [];

  const request: AuthHarness['request'] = async (method, url, body, token, headers = {}) => {
    const response = await app.inject({
      method: method as 'GET',
      url,
      ...(body === undefined ? {} : { payload: body as object }),
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
    bodies.push(response.body);
    return response as unknown as Response;
  };

  const harness: AuthHarness = {
    app,
    clock,
    passwords,
    config,
    keys,
    mongo,
    amqp,
    models: authModels(mongo.connection),
    logs,
    events,
    bodies,
    request,
    async signUp(email, password = TEST_PASSWORD, extra = {}) {
      const registered = await request('POST', '/api/v1/auth/register', {
        email,
        password,
        name: 'Test User',
        ...extra,
      });
      if (registered.statusCode !== 202) throw new Error(`register failed: ${registered.body}`);
      const login = await request('POST', '/api/v1/auth/login', { email, password });
      if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`);
      // registration answers the same for a new and a taken address: the id comes from the token
      return { id: subjectOf(login.json().accessToken), email, password, ...login.json() };
    },
    async close() {
      await app.close();
      if (options.shareWith) return;
      await events.close();
      await testAmqp?.cleanup();
      await mongo.dropAndClose();
      if (events.invalid.length) {
        throw new Error(`events broke their contracts schema: ${JSON.stringify(events.invalid, null, 2)}`);
      }
    },
  };
  return harness;
}

/** The user id (`sub`) of an access token. */
export function subjectOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).sub as string;
}

/** Waits until the outbox of every user, key and subscriber is empty: all events confirmed by the broker. */
export async function waitForOutboxDrained(harness: AuthHarness): Promise<void> {
  const { users, apiKeys, subscribers } = harness.models;
  await waitFor(
    async () => {
      const pending = await Promise.all(
        [users, apiKeys, subscribers].map((model) =>
          (model as typeof users).countDocuments({ 'outbox.0': { $exists: true } }),
        ),
      );
      return pending.every((count) => count === 0);
    },
    {
      description: 'every outbox entry published',
    },
  );
}

export const TEST_ADMIN = { ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'admin password 1' };

/** An access token of the admin that `TEST_ADMIN` in the env creates at start. */
export async function adminAccessToken(harness: AuthHarness): Promise<string> {
  const login = await harness.request('POST', '/api/v1/auth/login', {
    email: TEST_ADMIN.ADMIN_EMAIL,
    password: TEST_ADMIN.ADMIN_PASSWORD,
  });
  if (login.statusCode !== 200) throw new Error(`admin login failed: ${login.body}`);
  return login.json().accessToken as string;
}

/** Creates an API key as `adminToken`; returns the whole key (`hk_…`) and its id. */
export async function createApiKey(
  harness: AuthHarness,
  adminToken: string,
  scopes: string[],
  extra: Record<string, unknown> = {},
): Promise<{ key: string; id: string }> {
  const created = await harness.request(
    'POST',
    '/api/v1/api-keys',
    { name: `key for ${scopes.join(' ')}`, scopes, ...extra },
    adminToken,
  );
  if (created.statusCode !== 201) throw new Error(`api key creation failed: ${created.body}`);
  return { key: created.json().key as string, id: created.json().id as string };
}
