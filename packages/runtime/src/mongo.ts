import mongoose, { type Connection } from 'mongoose';
import { ConflictError } from './errors';

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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const ping = connection.db
      .admin()
      .ping()
      .then(() => true)
      .catch(() => false);
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const DUPLICATE_KEY_CODES = new Set([11000, 11001]);

export interface DriverError {
  code?: unknown;
  message?: unknown;
  keyPattern?: unknown;
  keyValue?: unknown;
}

/**
 * The one test for "a unique index refused this write": the driver's codes
 * 11000/11001, or the E11000 text that bulk-write errors and
 * mongo-java-server carry without a code.
 */
export function isDuplicateKeyError(error: unknown): error is DriverError {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as DriverError;
  if (typeof code === 'number' && DUPLICATE_KEY_CODES.has(code)) return true;
  return typeof message === 'string' && message.includes('E11000 duplicate key');
}

function objectKeys(value: unknown): string[] {
  return typeof value === 'object' && value !== null ? Object.keys(value) : [];
}

/**
 * The fields of the violated unique index. mongod ≥ 4.4 reports them as
 * `keyPattern` / `keyValue`; mongo-java-server (and bulk-write errors)
 * only in the message: `… index: email_1 dup key: { email: "a@b.c" }`.
 */
function duplicateKeyFields(error: DriverError): string[] {
  const fromPattern = objectKeys(error.keyPattern);
  if (fromPattern.length) return fromPattern;
  const fromValue = objectKeys(error.keyValue);
  if (fromValue.length) return fromValue;

  const message = typeof error.message === 'string' ? error.message : '';
  const dupKey = /dup key: \{(.*)\}/s.exec(message)?.[1];
  if (dupKey) {
    // blank out quoted values first: they may hold anything, commas and colons included
    const keys = dupKey
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .matchAll(/(?:^|,)\s*"?([A-Za-z_$][\w.$]*)"?\s*:/g);
    const fields = [...keys].map((match) => match[1]).filter((field): field is string => Boolean(field));
    if (fields.length) return fields;
  }
  const indexName = /index: (\S+)/.exec(message)?.[1];
  if (indexName) {
    // default index names are field_direction pairs: a_1_b_-1
    const fields = indexName
      .replace(/_(-?1|text|2dsphere|hashed)(?=_|$)/g, '\u0000')
      .split('\u0000')
      .filter(Boolean);
    if (fields.length) return fields;
  }
  return [];
}

/**
 * Turns a duplicate-key error into `ConflictError('duplicate_<fields>')`
 * (e.g. `duplicate_email`, `duplicate_tenant_email`); returns every other
 * error unchanged. The detail names the fields, never the values (they may
 * be personal data).
 *
 *   try { await User.create(input) } catch (err) { throw mapMongoError(err) }
 */
export function mapMongoError<E>(error: E): E | ConflictError {
  if (!isDuplicateKeyError(error)) return error;
  const fields = duplicateKeyFields(error);
  if (!fields.length)
    return new ConflictError('duplicate_key', 'A record with the same unique value already exists');
  const code = `duplicate_${fields
    .map((field) => field.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, ''))
    .filter(Boolean)
    .join('_')
    .toLowerCase()}`;
  const detail = `A record with the same ${fields.join(' and ')} already exists`;
  return new ConflictError(code === 'duplicate_' ? 'duplicate_key' : code, detail);
}

/** The model surface `prepareModels` needs (a mongoose Model has it). */
export interface InitialisableModel {
  init(): Promise<unknown>;
  createCollection(): Promise<unknown>;
  createIndexes(): Promise<unknown>;
  schema: { options: { autoIndex?: boolean | null } };
}

/**
 * mongod answers a racing createCollection with NamespaceExists (48);
 * mongo-java-server with "Document with key '<db>.<coll>' already existed in
 * … system.namespaces". Either means another caller created it first.
 */
export function isNamespaceExistsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as DriverError;
  if (code === 48) return true;
  return typeof message === 'string' && /already exist(s|ed)/i.test(message);
}

/**
 * Step one of every service's start-up: each model's collection exists and
 * its indexes are built, awaited, before any migration, request or message
 * touches them. `Model.init()` is what mongoose otherwise starts in the
 * background when a model is compiled; a migration's `updateMany` racing it
 * on a fresh database made mongo-java-server refuse the second creator. The
 * loser of such a race (another instance starting at the same moment) goes
 * on: the collection exists, so it only builds the indexes (createIndexes is
 * idempotent). Models with `autoIndex: false` build theirs after their
 * migrations, as their service says.
 */
export async function prepareModels(models: Iterable<InitialisableModel>): Promise<void> {
  await Promise.all(
    [...models].map(async (model) => {
      try {
        await model.init();
      } catch (error) {
        if (!isNamespaceExistsError(error)) throw error;
        await model.createCollection().catch((again: unknown) => {
          if (!isNamespaceExistsError(again)) throw again;
        });
        if (model.schema.options.autoIndex !== false) await model.createIndexes();
      }
    }),
  );
}
