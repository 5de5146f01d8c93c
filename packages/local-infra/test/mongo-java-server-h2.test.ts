// The MongoDB of `pnpm start` when MONGO_URL is unset: mongo-java-server on
// its H2 backend. What a local run relies on is that a stop and a start keep
// the data, and that unique indexes (one email per user) still hold after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo } from '@herald/runtime/mongo';
import { startMongoJavaServer } from '../src';
import { silent, withH2Server, type Driver, type TestDb } from './helpers';

jest.setTimeout(60_000);

// what `pnpm start` runs, but with the test runs' fast-start JVM
const shortLived = { jvmProfile: 'short-lived' } as const;

/** a connection as a service opens it (mongoose, through @herald/runtime), with a users model */
async function connect(url: string) {
  const connection = await connectMongo({ url, dbName: 'herald_auth', logger: silent, maxAttempts: 1 });
  const UserSchema = new connection.base.Schema({
    email: { type: String, required: true, unique: true },
    name: String,
  });
  return { connection, Users: connection.model('User', UserSchema) };
}

describe('mongo-java-server on an H2 file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-h2-'));
  const file = join(dir, 'mongo', 'herald.mv');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps documents and unique indexes across a stop and a start', async () => {
    const first = await startMongoJavaServer({ h2File: file, ...shortLived });
    try {
      expect(first.label).toContain(file);
      const { connection, Users } = await connect(first.url);
      await Users.init(); // builds the unique index, as a service does at start
      await Users.create({ email: 'ada@example.com', name: 'Ada' });
      await connection.collection('notifications').insertMany([{ title: 'one' }, { title: 'two' }]);
      await connection.close();
    } finally {
      await first.stop();
    }

    const second = await startMongoJavaServer({ h2File: file, ...shortLived });
    try {
      const { connection, Users } = await connect(second.url);
      expect(await Users.findOne({ email: 'ada@example.com' }).lean()).toMatchObject({ name: 'Ada' });
      expect(await connection.collection('notifications').countDocuments()).toBe(2);
      const indexes = await connection.collection('users').indexes();
      expect(indexes).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: { email: 1 }, unique: true })]),
      );
      await expect(Users.create({ email: 'ada@example.com', name: 'Impostor' })).rejects.toMatchObject({
        code: 11000,
      });
      await connection.close();
    } finally {
      await second.stop();
    }
  });

  it('refuses a second server on a file that is in use', async () => {
    const owner = await startMongoJavaServer({ h2File: join(dir, 'locked.mv'), ...shortLived });
    try {
      await expect(
        startMongoJavaServer({
          h2File: join(dir, 'locked.mv'),
          logFile: join(dir, 'second.log'),
          ...shortLived,
        }),
      ).rejects.toThrow(/exited during start-up[\s\S]*locked/i);
    } finally {
      await owner.stop();
    }
  });
});

// The documents are stored, and held in memory, as BSON (BsonBytesType.java); files written by
// the library's own backend (Java serialization: an earlier `pnpm start`)
// must still read, and take the new form page by page.
describe('mongo-java-server on an H2 file: how documents are stored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-h2-bson-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const withServer = (
    file: string,
    use: (db: TestDb, driver: Driver) => Promise<void>,
    libraryH2Backend = false,
  ) => withH2Server(file, 'stored', use, { libraryH2Backend });

  /** every BSON type a service may store, nested too */
  function everyType(driver: Driver, id: string) {
    return {
      _id: id,
      int: new driver.Int32(7),
      long: driver.Long.fromString('9007199254740993'),
      double: new driver.Double(1.5),
      decimal: driver.Decimal128.fromString('12.345'),
      string: 'ünïcødé ✓',
      bool: true,
      nothing: null,
      date: new Date('2026-12-05T10:00:00.123Z'),
      objectId: new driver.ObjectId('65f0c0ffee0000000000abcd'),
      binary: new driver.Binary(Buffer.from([0, 1, 2, 255]), 0),
      uuid: new driver.UUID('0b6c8f3e-1d2a-4c5b-9e7f-123456789abc'),
      timestamp: new driver.Timestamp({ t: 1_700_000_000, i: 3 }),
      regex: new driver.BSONRegExp('^a.c$', 'i'),
      array: [1, 'two', { three: [3] }, []],
      nested: { a: { b: { c: 'deep' } }, empty: {} },
    };
  }

  const raw = { promoteValues: false, promoteLongs: false, promoteBuffers: false } as const;

  it('keeps every BSON type as it was stored, across a stop and a start', async () => {
    const file = join(dir, 'types.mv');
    let before: unknown;
    await withServer(file, async (db, driver) => {
      await db.collection('things').insertOne(everyType(driver, 'all') as never);
      before = await db.collection('things').findOne({ _id: 'all' as never }, raw);
    });
    await withServer(file, async (db, driver) => {
      const after = await db.collection('things').findOne({ _id: 'all' as never }, raw);
      expect(after).toEqual(before);
      expect(after).toEqual(
        await db.collection('things').findOne({ _id: 'all' as never }, raw), // read again: from the cache
      );
      expect(Object.keys(after!)).toEqual(Object.keys(everyType(driver, 'all'))); // field order too
    });
  });

  it('reads documents the library wrote, and keeps them readable once rewritten', async () => {
    const file = join(dir, 'library.mv');
    let before: unknown[] = [];
    await withServer(
      file,
      async (db, driver) => {
        const docs = Array.from({ length: 500 }, (_, index) => ({
          ...everyType(driver, `d-${index}`),
          index,
        }));
        await db.collection('things').insertMany(docs as never[]);
        before = await db.collection('things').find({}, raw).sort({ _id: 1 }).toArray();
        // ObjectId _ids, as services' documents have: the collection's keys and the index's positions
        await db.collection('byObjectId').createIndex({ n: 1 }, { unique: true });
        await db.collection('byObjectId').insertMany(Array.from({ length: 300 }, (_, n) => ({ n })));
      },
      true,
    );
    const byObjectId = async (db: TestDb, n: number) => {
      const found = await db.collection('byObjectId').findOne({ n });
      expect(found).not.toBeNull();
      expect(await db.collection('byObjectId').findOne({ _id: found!._id })).toEqual(found);
      return found!._id;
    };
    await withServer(file, async (db) => {
      expect(await db.collection('things').find({}, raw).sort({ _id: 1 }).toArray()).toEqual(before);
      // rewrite some pages (in the new form) beside pages still in the old one
      await db.collection('things').updateMany({ index: { $lt: 100 } }, { $set: { touched: true } });
      await db.collection('things').insertOne({ _id: 'new', index: 500 } as never);
      expect(await byObjectId(db, 7)).toBeDefined();
      await db.collection('byObjectId').updateMany({ n: { $lt: 150 } }, { $set: { touched: true } });
      await db.collection('byObjectId').insertMany(Array.from({ length: 100 }, (_, n) => ({ n: 300 + n })));
    });
    await withServer(file, async (db) => {
      const after = await db.collection('things').find({}, raw).sort({ _id: 1 }).toArray();
      expect(after).toHaveLength(501);
      const touched = after.filter((doc) => doc.touched);
      expect(touched).toHaveLength(100);
      expect(after.filter((doc) => String(doc._id) !== 'new').map(({ touched: _, ...doc }) => doc)).toEqual(
        before,
      );
      for (const n of [0, 149, 150, 299, 300, 399]) await byObjectId(db, n); // old and new pages, by _id and by n
      expect(await db.collection('byObjectId').countDocuments({ touched: true })).toBe(150);
      await expect(db.collection('byObjectId').insertOne({ n: 42 })).rejects.toMatchObject({ code: 11000 });
    });
  });

  // The collection keeps each document as BSON bytes and decodes it on every read
  // (H2SupersetBackend.Collection overrides each way the library's H2Collection reaches
  // its documents); each of those ways, within a run and after a restart.
  // The data size (collStats' size) is kept from the bytes stored, not by the library's second
  // encoding of each document: it must still be the documents' BSON size after every kind of write.
  const dataSize = async (db: TestDb, name: string) => (await db.command({ collStats: name })).size as number;
  const bsonSize = async (db: TestDb, driver: Driver, name: string) =>
    (await db.collection(name).find({}).toArray()).reduce(
      (sum, doc) => sum + driver.BSON.calculateObjectSize(doc),
      0,
    );

  it('inserts, updates, replaces, deletes and reads in natural order, within a run and after it', async () => {
    const file = join(dir, 'operations.mv');
    const ids = Array.from({ length: 30 }, (_, n) => `op-${String(n).padStart(2, '0')}`);
    await withServer(file, async (db, driver) => {
      const things = db.collection<{ _id: string; n: number; tag?: string; replaced?: boolean }>('ops');
      expect(await things.estimatedDocumentCount()).toBe(0);
      await things.insertMany(ids.map((_id, n) => ({ _id, n })));
      await expect(things.insertOne({ _id: 'op-03', n: 99 })).rejects.toMatchObject({ code: 11000 });
      expect(await things.estimatedDocumentCount()).toBe(30);
      expect(await dataSize(db, 'ops')).toBe(await bsonSize(db, driver, 'ops'));

      await things.updateMany({ n: { $lt: 10 } }, { $set: { tag: 'low' } });
      const before = await things.findOneAndUpdate({ _id: 'op-12' }, { $set: { tag: 'once' } });
      expect(before).toEqual({ _id: 'op-12', n: 12 });
      const after = await things.findOneAndUpdate(
        { _id: 'op-13' },
        { $inc: { n: 100 } },
        { returnDocument: 'after' },
      );
      expect(after).toEqual({ _id: 'op-13', n: 113 });
      await things.replaceOne({ _id: 'op-14' }, { n: 14, replaced: true });
      expect(await things.deleteMany({ n: { $gte: 20, $lt: 25 } })).toMatchObject({ deletedCount: 5 });
      await things.deleteOne({ _id: 'op-29' });
      expect(await dataSize(db, 'ops')).toBe(await bsonSize(db, driver, 'ops'));

      const read = await things.findOne({ _id: 'op-00' });
      expect(read).toEqual({ _id: 'op-00', n: 0, tag: 'low' });
      expect(await things.find({}).sort({ $natural: -1 }).limit(3).toArray()).toEqual([
        { _id: 'op-28', n: 28 },
        { _id: 'op-27', n: 27 },
        { _id: 'op-26', n: 26 },
      ]);
    });
    await withServer(file, async (db, driver) => {
      const things = db.collection<{ _id: string }>('ops');
      const all = await things.find({}).sort({ _id: 1 }).toArray();
      expect(all).toHaveLength(24);
      expect(await dataSize(db, 'ops')).toBe(await bsonSize(db, driver, 'ops'));
      expect(all.filter((doc) => (doc as { tag?: string }).tag === 'low')).toHaveLength(10);
      expect(all.find((doc) => doc._id === 'op-12')).toEqual({ _id: 'op-12', n: 12, tag: 'once' });
      expect(all.find((doc) => doc._id === 'op-13')).toEqual({ _id: 'op-13', n: 113 });
      expect(all.find((doc) => doc._id === 'op-14')).toEqual({ _id: 'op-14', n: 14, replaced: true });
      expect(all.map((doc) => doc._id)).not.toEqual(expect.arrayContaining(['op-20', 'op-24', 'op-29']));
      expect((await things.find({}).sort({ $natural: -1 }).limit(1).toArray())[0]).toMatchObject({
        _id: 'op-28',
      });
      expect(await things.estimatedDocumentCount()).toBe(24);
      await things.deleteMany({});
      expect(await things.estimatedDocumentCount()).toBe(0);
      expect(await dataSize(db, 'ops')).toBe(0);
      expect(await things.findOne({})).toBeNull();
    });
  });
});
