// The launcher's one change to mongo-java-server's query planning: a unique
// index also answers a query that holds all its keys as plain equalities
// plus other fields (EqualitySupersetRule.java). The library uses an index
// only when a query's fields are exactly the index's, so a compare-and-set
// such as updateOne({ _id, status, attempt }) scanned the whole collection.
//
// What must hold is that results do not change: every query here is also
// run wrapped in a top-level $and, which holds no index key, so the library
// answers it by scanning every document, as it answered every one of these
// before the change; the two answers must be the same, and the expected one.
// That the index is used is not observable through the driver (no explain,
// no documents-examined count); it was measured by hand, see the #24 report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo } from '@herald/runtime/mongo';
import { startMongoJavaServer, type EmbeddedMongo } from '../src';
import { idsAsScanned, silent, withH2Server, type Driver, type TestDb } from './helpers';

jest.setTimeout(60_000);

type Doc = { _id: string; [field: string]: unknown };

const DIR = mkdtempSync(join(tmpdir(), 'herald-superset-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe.each([
  ['in memory', () => startMongoJavaServer({ jvmProfile: 'short-lived' })],
  [
    'on an H2 file',
    () => startMongoJavaServer({ h2File: join(DIR, 'superset.mv'), jvmProfile: 'short-lived' }),
  ],
])('mongo-java-server %s: unique indexes for queries with more fields', (_backend, start) => {
  let server: EmbeddedMongo;
  let connection: Awaited<ReturnType<typeof connectMongo>>;
  const collection = (name: string) => connection.db!.collection<Doc>(name);

  beforeAll(async () => {
    server = await start();
    connection = await connectMongo({ url: server.url, dbName: 'superset', logger: silent, maxAttempts: 1 });
  });
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  const idsOf = (name: string, filter: Record<string, unknown>) => idsAsScanned(connection.db!, name, filter);

  describe('a compare-and-set on _id and a status', () => {
    beforeAll(async () => {
      await collection('cas').insertMany([
        { _id: 'n1', status: 'queued', attempt: 3, userId: 'u1' },
        { _id: 'n2', status: 'queued', attempt: 1, userId: 'u1' },
        { _id: 'n3', status: 'sent', attempt: 3, userId: 'u2' },
        ...Array.from({ length: 50 }, (_, index) => ({
          _id: `filler-${index}`,
          status: 'queued',
          attempt: 3,
          userId: 'u3',
        })),
      ]);
    });

    it('finds the document whose extra fields match, and no other', async () => {
      expect(await idsOf('cas', { _id: 'n1', status: 'queued' })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', status: 'queued', attempt: 3 })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', status: 'sent' })).toEqual([]);
      expect(await idsOf('cas', { _id: 'n3', status: 'queued' })).toEqual([]);
      expect(await idsOf('cas', { _id: 'nobody', status: 'queued' })).toEqual([]);
    });

    it('updates once: the second compare-and-set matches nothing', async () => {
      const first = await collection('cas').updateOne(
        { _id: 'n2', status: 'queued', attempt: 1 },
        { $set: { status: 'sent', attempt: 2 } },
      );
      expect(first).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
      const again = await collection('cas').updateOne(
        { _id: 'n2', status: 'queued', attempt: 1 },
        { $set: { status: 'sent', attempt: 2 } },
      );
      expect(again).toMatchObject({ matchedCount: 0, modifiedCount: 0 });
      // the extra field differs on the right _id: nothing matched, nothing written
      const stale = await collection('cas').updateOne(
        { _id: 'n1', status: 'queued', attempt: 2 },
        { $set: { status: 'failed' } },
      );
      expect(stale).toMatchObject({ matchedCount: 0, modifiedCount: 0 });
      expect(await collection('cas').findOne({ _id: 'n1' })).toMatchObject({ status: 'queued', attempt: 3 });
      expect(await collection('cas').findOne({ _id: 'n2' })).toMatchObject({ status: 'sent', attempt: 2 });
      // and a delete on the same terms
      expect(await collection('cas').deleteOne({ _id: 'n3', status: 'queued' })).toMatchObject({
        deletedCount: 0,
      });
      expect(await collection('cas').countDocuments({ _id: 'n3', status: 'sent' })).toBe(1);
    });

    it('still filters operator values and $or in the extra fields', async () => {
      expect(await idsOf('cas', { _id: 'n1', attempt: { $gte: 3 } })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', attempt: { $gt: 3 } })).toEqual([]);
      expect(await idsOf('cas', { _id: 'n1', status: { $in: ['sent', 'failed'] } })).toEqual([]);
      expect(await idsOf('cas', { _id: 'n1', status: { $ne: 'sent' } })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', $or: [{ status: 'failed' }, { attempt: 3 }] })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', $or: [{ status: 'failed' }, { attempt: 4 }] })).toEqual([]);
      expect(await idsOf('cas', { _id: 'n1', removedAt: { $exists: false } })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', removedAt: null })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', status: /^que/ })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: 'n1', status: /^sen/ })).toEqual([]);
    });

    it('answers $in, operators and arrays on the index key as before', async () => {
      expect(await idsOf('cas', { _id: { $in: ['n1', 'n2', 'n3'] } })).toEqual(['n1', 'n2', 'n3']);
      expect(await idsOf('cas', { _id: { $in: ['n1', 'n2', 'n3'] }, status: 'queued' })).toEqual(['n1']);
      expect(await idsOf('cas', { _id: { $gte: 'n2' }, status: 'sent' })).toEqual(['n2', 'n3']);
      expect(await idsOf('cas', { _id: /^n[12]$/, userId: 'u1' })).toEqual(['n1', 'n2']);
      expect(await idsOf('cas', { _id: null, status: 'queued' })).toEqual([]);
    });
  });

  describe('a sparse unique index', () => {
    beforeAll(async () => {
      await collection('people').createIndex({ email: 1 }, { unique: true, sparse: true });
      await collection('people').insertMany([
        { _id: 'with', email: 'ada@example.com', kind: 'user' },
        { _id: 'other', email: 'bob@example.com', kind: 'user' },
        { _id: 'without', kind: 'user' },
        { _id: 'without-bot', kind: 'bot' },
      ]);
    });

    it('finds by the indexed field plus others', async () => {
      expect(await idsOf('people', { email: 'ada@example.com', kind: 'user' })).toEqual(['with']);
      expect(await idsOf('people', { email: 'ada@example.com', kind: 'bot' })).toEqual([]);
    });

    it('does not use the index for a document without the field (null), which it does not hold', async () => {
      expect(await idsOf('people', { email: null })).toEqual(['without', 'without-bot']);
      expect(await idsOf('people', { email: null, kind: 'user' })).toEqual(['without']);
      expect(await idsOf('people', { email: { $exists: false }, kind: 'bot' })).toEqual(['without-bot']);
      expect(await idsOf('people', { email: { $in: [null, 'bob@example.com'] }, kind: 'user' })).toEqual([
        'other',
        'without',
      ]);
    });

    it('still enforces uniqueness', async () => {
      await expect(
        collection('people').insertOne({ _id: 'twin', email: 'ada@example.com', kind: 'user' }),
      ).rejects.toMatchObject({ code: 11000 });
    });
  });

  describe('compound, dotted and multikey unique indexes', () => {
    beforeAll(async () => {
      await collection('keys').createIndex({ tenant: 1, key: 1 }, { unique: true });
      await collection('keys').createIndex(
        { 'deliveries.email.messageId': 1 },
        { unique: true, sparse: true },
      );
      await collection('keys').createIndex({ codes: 1 }, { unique: true, sparse: true });
      await collection('keys').insertMany([
        {
          _id: 'a',
          tenant: 't1',
          key: 'k',
          v: 1,
          deliveries: { email: { messageId: 'm1', status: 'sent' } },
        },
        {
          _id: 'b',
          tenant: 't2',
          key: 'k',
          v: 1,
          deliveries: { email: { messageId: 'm2', status: 'queued' } },
        },
        { _id: 'c', tenant: 't1', key: 'j', v: 2, codes: ['x1', 'x2'] },
      ]);
    });

    it('uses a compound index only with all its keys, and filters the rest', async () => {
      expect(await idsOf('keys', { tenant: 't1', key: 'k', v: 1 })).toEqual(['a']);
      expect(await idsOf('keys', { tenant: 't1', key: 'k', v: 2 })).toEqual([]);
      expect(await idsOf('keys', { tenant: 't1', v: 1 })).toEqual(['a']); // one key only: a scan, as before
      expect(await idsOf('keys', { tenant: 't1', key: { $in: ['k', 'j'] }, v: 2 })).toEqual(['c']);
    });

    it('answers a dotted key with its siblings', async () => {
      expect(
        await idsOf('keys', { 'deliveries.email.messageId': 'm2', 'deliveries.email.status': 'queued' }),
      ).toEqual(['b']);
      expect(
        await idsOf('keys', { 'deliveries.email.messageId': 'm2', 'deliveries.email.status': 'sent' }),
      ).toEqual([]);
    });

    it('finds an array element, and leaves an array value to the scan', async () => {
      expect(await idsOf('keys', { codes: 'x2', tenant: 't1' })).toEqual(['c']);
      expect(await idsOf('keys', { codes: 'x2', tenant: 't2' })).toEqual([]);
      expect(await idsOf('keys', { codes: ['x1', 'x2'], tenant: 't1' })).toEqual(['c']);
    });
  });
});

// H2 reopens the indexes of a file through the launcher's own classes while
// its constructors run (H2SupersetBackend.java): they must find their maps,
// with the entries written before the restart.
describe('mongo-java-server on an H2 file, after a restart', () => {
  const file = join(DIR, 'restart.mv');

  const withServer = (use: (db: TestDb) => Promise<void>, { libraryH2Backend = false, h2File = file } = {}) =>
    withH2Server(h2File, 'restart', use, { libraryH2Backend });

  it('keeps its unique indexes, and answers superset queries from them', async () => {
    await withServer(async (db) => {
      await db.collection<Doc>('people').createIndex({ email: 1 }, { unique: true });
      await db.collection<Doc>('people').insertMany([
        { _id: 'ada', email: 'ada@example.com', status: 'active' },
        { _id: 'bob', email: 'bob@example.com', status: 'invited' },
      ]);
    });
    await withServer(async (db) => {
      const people = db.collection<Doc>('people');
      await expect(people.insertOne({ _id: 'twin', email: 'ada@example.com' })).rejects.toMatchObject({
        code: 11000,
      });
      expect(await people.find({ email: 'bob@example.com', status: 'invited' }).toArray()).toEqual([
        { _id: 'bob', email: 'bob@example.com', status: 'invited' },
      ]);
      expect(await people.countDocuments({ email: 'bob@example.com', status: 'active' })).toBe(0);
      expect(
        await people.updateOne({ _id: 'ada', status: 'active' }, { $set: { status: 'gone' } }),
      ).toMatchObject({
        matchedCount: 1,
      });
      expect(
        await people.updateOne({ _id: 'ada', status: 'active' }, { $set: { status: 'gone' } }),
      ).toMatchObject({
        matchedCount: 0,
      });
    });
  });

  it('opens a file whose index maps the library wrote (keys as KeyValues), with every key still unique', async () => {
    const old = join(DIR, 'library-written.mv');
    const people = Array.from({ length: 300 }, (_, index) => ({
      _id: `p-${index}`,
      email: `p${index}@example.com`,
      tenant: `t-${index % 3}`,
      handle: `h-${index % 100}`,
      status: 'active',
    }));
    await withServer(
      async (db) => {
        await db.collection<Doc>('people').createIndex({ email: 1 }, { unique: true });
        await db.collection<Doc>('people').createIndex({ tenant: 1, handle: 1 }, { unique: true });
        await db.collection<Doc>('people').insertMany(people);
      },
      { libraryH2Backend: true, h2File: old },
    );
    // twice: the first open converts the maps, the second finds nothing left to convert
    for (let open = 0; open < 2; open += 1) {
      await withServer(
        async (db) => {
          const collection = db.collection<Doc>('people');
          for (const twin of [
            { _id: 'p-7', email: 'new@example.com' },
            { _id: `twin-${open}`, email: 'p42@example.com' },
            { _id: `twin-${open}`, email: `other-${open}@example.com`, tenant: 't-1', handle: 'h-1' },
          ]) {
            await expect(collection.insertOne(twin)).rejects.toMatchObject({ code: 11000 });
          }
          expect(await collection.find({ email: 'p299@example.com', status: 'active' }).toArray()).toEqual([
            people[299],
          ]);
          expect(await collection.find({ tenant: 't-2', handle: 'h-5' }).toArray()).toEqual([people[5]]);
          expect(await collection.countDocuments({ email: { $gte: 'p290' } })).toBe(
            people.filter((person) => person.email >= 'p290').length,
          );
          expect(await collection.countDocuments()).toBe(300 + open);
          await collection.insertOne({
            _id: `new-${open}`,
            email: `new-${open}@example.com`,
            tenant: 'new',
            handle: `${open}`,
          });
        },
        { h2File: old },
      );
    }
  });
});

// The H2 unique index's keys are stored in a compact form (IndexKeyCodec.java):
// equal values must still meet and different ones must not, for every type a
// key can hold, before and after a restart.
describe('mongo-java-server on an H2 file: unique keys of every type', () => {
  it('refuses exactly the duplicates MongoDB refuses, before and after a restart', async () => {
    const file = join(DIR, 'key-types.mv');
    const open = (use: (db: TestDb, driver: Driver) => Promise<void>) => withH2Server(file, 'keys', use);
    // one of each type, and for each a value that is different but close
    const values = (driver: Driver) =>
      [
        ['string', 'ada'],
        ['string, other case', 'Ada'],
        ['unicode', 'ünïcødé ✓ 😀'],
        ['double', 1.5],
        ['integer', 2],
        ['zero', 0],
        ['large long', driver.Long.fromString('9007199254740993')],
        ['next large long', driver.Long.fromString('9007199254740995')],
        ['true', true],
        ['false', false],
        ['date', new Date('2026-12-05T10:00:00.123Z')],
        ['next date', new Date('2026-12-05T10:00:00.124Z')],
        ['ObjectId', new driver.ObjectId('65f0c0ffee0000000000abcd')],
        ['document', { a: 1, b: 'x' }],
        ['other document', { a: 1, b: 'y' }],
        ['UUID', new driver.UUID('0b6c8f3e-1d2a-4c5b-9e7f-123456789abc')],
        ['null', null],
      ] as const;
    // what MongoDB takes as the same key as one above
    const twins = (driver: Driver) => [
      ['ada'],
      [1.5],
      [2.0],
      [new driver.Double(2)],
      [driver.Long.fromNumber(2)],
      [-0.0],
      [driver.Long.fromString('9007199254740993')],
      [new Date('2026-12-05T10:00:00.123Z')],
      [new driver.ObjectId('65f0c0ffee0000000000abcd')],
      [{ a: 1.0, b: 'x' }],
      [new driver.UUID('0b6c8f3e-1d2a-4c5b-9e7f-123456789abc')],
      [null],
      [undefined], // a missing field is a null key
    ];
    const check = async (db: TestDb, driver: Driver, round: number) => {
      const collection = db.collection<Doc>('keys');
      for (const [index, [twin]] of twins(driver).entries()) {
        const doc =
          twin === undefined ? { _id: `twin-${round}-${index}` } : { _id: `twin-${round}-${index}`, k: twin };
        await expect(collection.insertOne(doc)).rejects.toMatchObject({ code: 11000 });
      }
      for (const [name, value] of values(driver)) {
        const found = await collection.find({ k: value as never }).toArray();
        expect([name, found.map((doc) => doc._id)]).toEqual([name, [name]]);
      }
      expect(await collection.countDocuments()).toBe(values(driver).length);
    };
    await open(async (db, driver) => {
      await db.collection<Doc>('keys').createIndex({ k: 1 }, { unique: true });
      await db
        .collection<Doc>('keys')
        .insertMany(values(driver).map(([name, value]) => ({ _id: name, k: value })));
      await check(db, driver, 1);
    });
    await open(async (db, driver) => check(db, driver, 2));
  });
});
