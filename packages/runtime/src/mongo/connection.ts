import mongoose, { type Connection } from 'mongoose';
import { settleWithin } from '../timeout';

/**
 * The MongoDB connection every service shares: connect with a bounded retry
 * at start-up (MongoDB may come up after us under docker-compose), a
 * readiness probe for /health/ready, and the one translation of driver
 * errors into our error model.
 */

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** The part of a pino Logger this module uses. */
export interface MongoLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface ConnectMongoOptions {
  url: string;
  /** overrides the database in the URL */
  dbName?: string;
  logger: MongoLogger;
  /** attempts before giving up; default 10 (about a minute with the default delays) */
  maxAttempts?: number;
  /** pause after the first failed attempt; doubles each time up to 10 s; default 500 */
  retryDelayMs?: number;
  /** how long one attempt waits for a server; default 5000 */
  serverSelectionTimeoutMS?: number;
}

const MAX_RETRY_DELAY_MS = 10_000;

/** The URL without its password: for logs and error messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@/]*@/, '$1***@');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Opens a dedicated connection (never mongoose's global one, so a service
 * and its tests can hold several). Retries a refused or timed-out first
 * connection up to `maxAttempts` times with growing, jittered delays, then
 * fails with the last driver error as `cause`.
 */
export async function connectMongo({
  url,
  dbName,
  logger,
  maxAttempts = 10,
  retryDelayMs = 500,
  serverSelectionTimeoutMS = 5_000,
}: ConnectMongoOptions): Promise<Connection> {
  const target = redact(url);
  let lastError: unknown;
  let attempts = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    attempts = attempt;
    let connection: Connection | undefined;
    try {
      connection = mongoose.createConnection(url, { dbName, serverSelectionTimeoutMS });
      await connection.asPromise();
      logger.info({ attempt, dbName: connection.name }, 'connected to MongoDB');
      return connection;
    } catch (err) {
      lastError = err;
      // destroy(), not close(): also drops it from mongoose.connections
      await connection?.destroy(true).catch(() => undefined);
      if (attempt === maxAttempts || !isWorthRetrying(err)) break;
      const backoff = Math.min(retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      // jitter, so instances restarted together do not retry in lockstep
      const retryInMs = Math.round(backoff * (0.8 + Math.random() * 0.4));
      // The message only: the driver's error carries its whole topology description (kilobytes a line).
      const reason = err instanceof Error ? err.message : String(err);
      logger.warn(
        { attempt, maxAttempts, retryInMs, reason },
        `MongoDB at ${target} not reachable, retrying`,
      );
      await sleep(retryInMs);
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  logger.error({ attempts, err: lastError }, `giving up on MongoDB at ${target}`);
  throw new Error(`MongoDB at ${target} not reachable after ${attempts} attempt(s): ${reason}`, {
    cause: lastError,
  });
}

/** A malformed URL or refused credentials will fail the same way every time: report at once. */
function isWorthRetrying(err: unknown): boolean {
  if (err instanceof mongoose.mongo.MongoParseError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return code !== 18; // AuthenticationFailed
}

/**
 * `url` pointed at the database `dbName`: one server, a database per service
 * (or per test suite). With credentials and no explicit authSource, the
 * database in the path is also where the driver authenticates, so the
 * original one (or `admin`) is kept as authSource.
 */
export function withDatabase(url: string, dbName: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/([^/?]+))(?:\/([^?]*))?(?:\?(.*))?$/.exec(url);
  if (!match) throw new Error(`not a MongoDB connection string: ${url.replace(/\/\/[^@/]*@/, '//***@')}`);
  const [, authority = '', hosts = '', pathDb = '', query = ''] = match;
  const params = new URLSearchParams(query);
  if (hosts.includes('@') && !params.has('authSource')) params.set('authSource', pathDb || 'admin');
  const search = params.toString();
  return `${authority}/${dbName}${search ? `?${search}` : ''}`;
}

/** Closes the connection, letting in-flight operations finish; safe to call twice. */
export async function closeMongo(connection: Connection): Promise<void> {
  await connection.close();
}

/**
 * For /health/ready: connected, and the server answers a ping within
 * `timeoutMs`. Never throws.
 */
export async function isMongoReady(connection: Connection, timeoutMs = 2_000): Promise<boolean> {
  if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) return false;
  const ping = connection.db
    .admin()
    .ping()
    .then(() => true)
    .catch(() => false);
  return settleWithin(ping, timeoutMs, false);
}
