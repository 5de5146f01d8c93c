import { createServer } from 'node:net';
import { Schema, type Connection } from 'mongoose';
import { connectTestMongo, type TestMongo } from '@herald/test-support';
import { ConflictError } from '../src/errors';
import {
  closeMongo,
  connectMongo,
  isDuplicateKeyError,
  isMongoReady,
  mapMongoError,
  type MongoLogger,
} from '../src/mongo';

interface Subscriber {
  email: string;
  tenant: string;
  handle: string;
  rank: number;
}

const subscriberSchema = new Schema<Subscriber>({
  email: { type: String, required: true, unique: true },
  tenant: { type: String, required: true },
  handle: { type: String, required: true },
  rank: { type: Number, required: true },
});
subscriberSchema.index({ tenant: 1, handle: 1 }, { unique: true });

function subscriberModel(connection: Connection) {
  return connection.model('Subscriber', subscriberSchema);
}

function recordingLogger() {
  const calls: Array<{ level: keyof MongoLogger; fields: Record<string, unknown>; message: string }> = [];
  const at =
    (level: keyof MongoLogger) =>
    (fields: Record<string, unknown>, message: string): void => {
      calls.push({ level, fields, message });
    };
  const logger: MongoLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, calls };
}

/** A port on which nothing listens: bind an ephemeral one, then free it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('mongo', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let Subscribers: ReturnType<typeof subscriberModel>;

  beforeAll(async () => {
    mongo = await connectTestMongo('runtime-mongo');
    // connectMongo itself, against the run's MongoDB and the suite's database
    connection = await connectMongo({ url: mongo.url, logger: recordingLogger().logger, maxAttempts: 1 });
    Subscribers = subscriberModel(connection);
    await Subscribers.init(); // the unique indexes exist before the first insert
  });

  afterAll(async () => {
    await closeMongo(connection);
    await mongo.dropAndClose();
  });

  it('connects to the database named in the URL', () => {
    expect(connection.name).toBe(mongo.dbName);
  });

  it('reports a live connection as ready', async () => {
    await expect(isMongoReady(connection)).resolves.toBe(true);
  });

  it('maps a duplicate unique field to ConflictError duplicate_<field>', async () => {
    await Subscribers.create({ email: 'ada@example.com', tenant: 't1', handle: 'ada', rank: 1 });

    const error = await Subscribers.create({
      email: 'ada@example.com',
      tenant: 't1',
      handle: 'other',
      rank: 2,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );

    const mapped = mapMongoError(error);
    expect(mapped).toBeInstanceOf(ConflictError);
    expect(mapped).toMatchObject({ status: 409, code: 'duplicate_email' });
    expect((mapped as ConflictError).detail).not.toContain('ada@example.com');
  });

  it('names every field of a compound unique index', async () => {
    await Subscribers.create({ email: 'bob@example.com', tenant: 't2', handle: 'bob', rank: 1 });

    const error = await Subscribers.create({
      email: 'bob2@example.com',
      tenant: 't2',
      handle: 'bob',
      rank: 2,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(mapMongoError(error)).toMatchObject({ code: 'duplicate_tenant_handle' });
  });

  it('reads the fields from keyPattern when the server reports it (mongod >= 4.4)', () => {
    const fromMongod = Object.assign(
      new Error('E11000 duplicate key error collection: db.users index: by_mail'),
      {
        code: 11000,
        keyPattern: { 'contact.email': 1 },
        keyValue: { 'contact.email': 'x@example.com' },
      },
    );

    expect(mapMongoError(fromMongod)).toMatchObject({ code: 'duplicate_contact_email' });
  });

  it('recognises the error of a real duplicate insert as a duplicate key', async () => {
    await Subscribers.create({ email: 'cy@example.com', tenant: 't3', handle: 'cy', rank: 1 });
    const error = await Subscribers.create({
      email: 'cy@example.com',
      tenant: 't3',
      handle: 'cy2',
      rank: 2,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isDuplicateKeyError(error)).toBe(true);
  });

  it('returns any other error unchanged', () => {
    const other = new Error('boom');
    expect(mapMongoError(other)).toBe(other);
  });

  it('sorts and limits a query', async () => {
    await Subscribers.insertMany(
      [5, 3, 9, 1, 7].map((rank) => ({
        email: `r${rank}@example.com`,
        tenant: 'ranked',
        handle: `r${rank}`,
        rank,
      })),
    );

    const top = await Subscribers.find({ tenant: 'ranked' }).sort({ rank: -1 }).limit(3).lean();

    expect(top.map((subscriber) => subscriber.rank)).toEqual([9, 7, 5]);
  });

  it('reports a closed connection as not ready', async () => {
    const other = await connectMongo({ url: mongo.url, logger: recordingLogger().logger, maxAttempts: 1 });
    await closeMongo(other);
    await expect(isMongoReady(other)).resolves.toBe(false);
  });

  it('gives up after maxAttempts when nothing listens, logging each failed attempt', async () => {
    const { logger, calls } = recordingLogger();
    const url = `mongodb://127.0.0.1:${await closedPort()}`;

    await expect(
      connectMongo({ url, logger, maxAttempts: 3, retryDelayMs: 10, serverSelectionTimeoutMS: 200 }),
    ).rejects.toThrow(/not reachable after 3 attempt\(s\)/);

    const warnings = calls.filter((call) => call.level === 'warn');
    expect(warnings.map((call) => call.fields.attempt)).toEqual([1, 2]);
    expect(warnings[0]?.fields.reason).toEqual(expect.stringContaining('ECONNREFUSED'));
    expect(warnings[0]?.fields).not.toHaveProperty('err');
    expect(calls.filter((call) => call.level === 'error')).toHaveLength(1);
  });
});

describe('isDuplicateKeyError', () => {
  it.each([
    ["the driver's code 11000", { code: 11000, message: 'write failed' }],
    ['the legacy code 11001', { code: 11001 }],
    [
      'only the E11000 text (bulk writes, mongo-java-server)',
      new Error('E11000 duplicate key error collection: db.users index: email_1 dup key: { email: "a@b.c" }'),
    ],
  ])('recognises %s', (_form, error) => {
    expect(isDuplicateKeyError(error)).toBe(true);
  });

  it.each([
    ['another code', { code: 121, message: 'Document failed validation' }],
    ['another message', new Error('connection refused')],
    ['the code as a string', { code: '11000' }],
    ['a bare string', 'E11000 duplicate key'],
    ['null', null],
    ['undefined', undefined],
  ])('does not mistake %s for one', (_form, error) => {
    expect(isDuplicateKeyError(error)).toBe(false);
  });
});
