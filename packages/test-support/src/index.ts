import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { withDatabase } from '@herald/runtime/mongo';

/**
 * Per-suite helpers for integration tests. Jest's global setup
 * (global-setup.ts) provides one MongoDB and one RabbitMQ per run and exports
 * MONGO_URL and AMQP_URL; suites share them, so each suite works in its own
 * database and under its own exchange/queue prefix, and removes both after.
 */

function requiredEnv(name: 'MONGO_URL' | 'AMQP_URL'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. Integration tests get it from packages/test-support/src/global-setup.ts: ` +
        'run them through the root jest config (pnpm jest …), which starts MongoDB and RabbitMQ first.',
    );
  }
  return value;
}

function slug(name: string, separator: '_' | '-', maxLength: number): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, separator)
    .replace(new RegExp(`^\\${separator}+|\\${separator}+$`, 'g'), '')
    .slice(0, maxLength);
  return cleaned || 'suite';
}

function randomSuffix(): string {
  return randomBytes(3).toString('hex');
}

/** The AMQP URL of the run's broker. */
export function testAmqpUrl(): string {
  return requiredEnv('AMQP_URL');
}

/** A fresh database name for one suite, e.g. `herald_test_notifications_3fa9c1`. */
export function testDatabaseName(suiteName: string): string {
  // MongoDB database names: at most 63 bytes, none of /\. "$*<>:|?
  return `herald_test_${slug(suiteName, '_', 40)}_${randomSuffix()}`;
}

/** A MongoDB URL with a database of its own for one suite (give it to the app under test). */
export function testMongoUrl(suiteName: string): string {
  return withDatabase(requiredEnv('MONGO_URL'), testDatabaseName(suiteName));
}

export interface TestMongo {
  /** a connection of its own (not mongoose's global one), already open */
  connection: Connection;
  /** the URL of the same database, for an app under test that connects by itself */
  url: string;
  dbName: string;
  /** drops the suite's database and closes the connection; safe to call twice */
  dropAndClose: () => Promise<void>;
}

/**
 * Opens a connection to a fresh database for one suite:
 *
 *   const mongo = await connectTestMongo('notifications');
 *   afterAll(() => mongo.dropAndClose());
 */
export async function connectTestMongo(suiteName: string): Promise<TestMongo> {
  const baseUrl = requiredEnv('MONGO_URL');
  const dbName = testDatabaseName(suiteName);
  // well inside Jest's 30 s test timeout, so a dead server fails with its own message
  const connection = await mongoose
    .createConnection(baseUrl, { dbName, serverSelectionTimeoutMS: 10_000 })
    .asPromise();
  let closed = false;
  return {
    connection,
    url: withDatabase(baseUrl, dbName),
    dbName,
    dropAndClose: async () => {
      if (closed) return;
      closed = true;
      try {
        await connection.dropDatabase();
      } finally {
        await connection.close();
      }
    },
  };
}

/**
 * A short prefix for one suite's exchanges and queues, e.g. `t-delivery-a41f0c`,
 * so suites sharing the broker never consume each other's messages.
 */
export function uniqueNamespace(name: string): string {
  return `t-${slug(name, '-', 20)}-${randomSuffix()}`;
}

export interface WaitForOptions {
  /** give up after this long; default 5000 */
  timeoutMs?: number;
  /** pause between attempts; default 50 */
  intervalMs?: number;
  /** what is awaited, for the timeout message */
  description?: string;
}

/**
 * Polls `predicate` until it returns a truthy value, and returns that value.
 * A throw counts as "not yet"; the last one is quoted if time runs out.
 * Use it instead of sleeping for asynchronous effects (a consumed message,
 * a status change).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 50, description }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  let lastValue: T | undefined;
  for (;;) {
    attempts += 1;
    try {
      lastValue = await predicate();
      lastError = undefined;
      if (lastValue) return lastValue as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const what = description ?? predicate.toString().replace(/\s+/g, ' ').slice(0, 120);
  const last =
    lastError !== undefined
      ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
      : `last value: ${JSON.stringify(lastValue) ?? String(lastValue)}`;
  throw new Error(
    `waitFor timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${what}; ${last}`,
  );
}

// The same helper the services' stack uses; re-exported for suites that build URLs themselves.
export { withDatabase };
// A port for a process a suite starts itself (a service in its own process, a proxy).
export { freePort } from '@herald/local-infra';
export type { Provided } from './infra/started';
export * from './tokens';
export * from './amqp';
