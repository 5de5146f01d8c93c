// The launcher's one-field non-unique indexes (SecondaryIndex.java), which
// mongo-java-server 1.47 accepts and ignores: every query on such a field
// scanned the collection under its lock (the outbox relay's poll over every
// notification). The index returns a superset of the answer and the
// collection matches each candidate against the whole query, so what must
// hold is that no answer changes: every query here is also run wrapped in a
// top-level $and, which no index answers (a full scan, as before), and both
// answers must be the same and the expected one. That the index is kept is
// seen in collStats' indexSize (one entry per document and value; none for a
// missing or null value, which only the scan answers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo } from '@herald/runtime/mongo';
import { startMongoJavaServer, type EmbeddedMongo } from '../src';
import { idsAsScanned, silent, withH2Server, type TestDb } from './helpers';

jest.setTimeout(60_000);

type Doc = { _id: string; [field: string]: unknown };

const DIR = mkdtempSync(join(tmpdir(), 'herald-secondary-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const at = (minute: number) => new Date(Date.UTC(2026, 11, 5, 10, minute));

/** notifications as the outbox relay sees them: a due date, or none */
const NOTIFICATIONS: Doc[] = [
  ...Array.from({ length: 60 }, (_, index) => ({
    _id: `n${String(index).padStart(2, '0')}`,
    dueAt: at(index),
  })),
  { _id: 'same-a', dueAt: at(30) },
  { _id: 'same-b', dueAt: at(30) },
  { _id: 'no-due' },
  { _id: 'null-due', dueAt: null },
  { _id: 'number-due', dueAt: 30 },
  { _id: 'string-due', dueAt: 'soon' },
];
/** the index's entries: one per document with a value (not 'no-due' nor 'null-due') */
const VALUED = NOTIFICATIONS.filter((doc) => doc.dueAt !== undefined && doc.dueAt !== null).length;

describe.each([
  ['in memory', () => startMongoJavaServer({ jvmProfile: 'short-lived' })],
  ['on an H2 file', () => startMongoJavaServer({ h2File: join(DIR, 'each.mv'), jvmProfile: 'short-lived' })],
])('mongo-java-server %s: one-field non-unique indexes', (_backend, start) => {
  let server: EmbeddedMongo;
  let connection: Awaited<ReturnType<typeof connectMongo>>;
  const collection = (name: string) => connection.db!.collection<Doc>(name);

  beforeAll(async () => {
    server = await start();
    connection = await connectMongo({ url: server.url, dbName: 'secondary', logger: silent, maxAttempts: 1 });
    await collection('notifications').createIndex({ dueAt: 1 });
    await collection('notifications').insertMany(NOTIFICATIONS);
    await collection('tags').insertMany([
      { _id: 't1', tags: [1, 10] },
      { _id: 't2', tags: [4] },
      { _id: 't3', tags: [] },
      { _id: 't4', tags: 7 },
      { _id: 't5' },
    ]);
    await collection('tags').createIndex({ tags: 1 }); // built over documents already there
  });
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  const idsOf = (name: string, filter: Record<string, unknown>) => idsAsScanned(connection.db!, name, filter);

  async function indexEntries(name: string, index: string): Promise<number> {
    const stats = await connection.db!.command({ collStats: name });
    return (stats.indexSize as Record<string, number>)[index]!;
  }

  it("answers the outbox relay's poll: due by now, past the watermark, in order", async () => {
    const poll = (now: Date, mark: { dueAt: Date; id: string }) =>
      collection('notifications')
        .find(
          {
            dueAt: { $lte: now },
            $or: [{ dueAt: { $gt: mark.dueAt } }, { dueAt: mark.dueAt, _id: { $gt: mark.id } }],
          },
          { sort: { dueAt: 1, _id: 1 } },
        )
        .toArray();
    const due = await poll(at(33), { dueAt: at(30), id: 'n30' });
    expect(due.map((doc) => doc._id)).toEqual(['same-a', 'same-b', 'n31', 'n32', 'n33']);
    expect(
      await idsOf('notifications', {
        dueAt: { $lte: at(33) },
        $or: [{ dueAt: { $gt: at(30) } }, { dueAt: at(30), _id: { $gt: 'n30' } }],
      }),
    ).toEqual(['n31', 'n32', 'n33', 'same-a', 'same-b']);
  });

  /** the documents `find` gives, in order, checked against the same find over a full scan ($and) */
  async function foundAsScanned(
    name: string,
    filter: Record<string, unknown>,
    options: {
      projection?: Record<string, unknown>;
      sort?: Record<string, 1 | -1>;
      limit?: number;
      skip?: number;
    },
  ) {
    const found = await collection(name).find(filter, options).toArray();
    const scanned = await collection(name)
      .find({ $and: [filter] }, options)
      .toArray();
    expect(found).toEqual(scanned);
    return found;
  }

  it("answers the relay's poll for ids and due times alone (the H2 backend from the index only) as a scan does", async () => {
    const poll = {
      dueAt: { $lte: at(33) },
      $or: [{ dueAt: { $gt: at(30) } }, { dueAt: at(30), _id: { $gt: 'n30' } }],
    };
    const sort = { dueAt: 1, _id: 1 } as const;
    expect(await foundAsScanned('notifications', poll, { projection: { _id: 1, dueAt: 1 }, sort })).toEqual([
      { _id: 'same-a', dueAt: at(30) },
      { _id: 'same-b', dueAt: at(30) },
      { _id: 'n31', dueAt: at(31) },
      { _id: 'n32', dueAt: at(32) },
      { _id: 'n33', dueAt: at(33) },
    ]);
    expect(
      await foundAsScanned('notifications', poll, { projection: { _id: 1, dueAt: 1 }, sort, limit: 2 }),
    ).toEqual([
      { _id: 'same-a', dueAt: at(30) },
      { _id: 'same-b', dueAt: at(30) },
    ]);
    expect(
      await foundAsScanned('notifications', poll, { projection: { _id: 1 }, sort: { _id: -1 } }),
    ).toEqual([{ _id: 'same-b' }, { _id: 'same-a' }, { _id: 'n33' }, { _id: 'n32' }, { _id: 'n31' }]);
    const withoutIds = await foundAsScanned('notifications', poll, {
      projection: { _id: 0, dueAt: 1 },
      sort,
    });
    expect(withoutIds).toEqual([at(30), at(30), at(31), at(32), at(33)].map((dueAt) => ({ dueAt })));
    // {_id: 0} alone keeps every other field; another field in the query, sort or projection; no sort;
    // a number or a missing value in range: read from the documents, and still the same answers
    await foundAsScanned('notifications', poll, { projection: { _id: 0 }, sort });
    await foundAsScanned(
      'notifications',
      { ...poll, other: { $exists: false } },
      { projection: { _id: 1 }, sort },
    );
    await foundAsScanned('notifications', poll, { projection: { _id: 1, other: 1 }, sort });
    await foundAsScanned('notifications', poll, { projection: { _id: 1 }, sort: { other: 1, _id: 1 } });
    await foundAsScanned('notifications', { dueAt: { $lte: at(2) } }, { projection: { _id: 1 }, sort });
    expect(
      await foundAsScanned(
        'notifications',
        { dueAt: { $gte: 29, $lte: 31 } },
        { projection: { dueAt: 1 }, sort },
      ),
    ).toEqual([{ _id: 'number-due', dueAt: 30 }]);
    // an entry follows its document: moved past the poll's window, then back
    await collection('notifications').updateOne({ _id: 'n32' }, { $set: { dueAt: at(50) } });
    const moved = await foundAsScanned('notifications', poll, { projection: { _id: 1 }, sort });
    expect(moved.map((doc) => doc._id)).toEqual(['same-a', 'same-b', 'n31', 'n33']);
    await collection('notifications').updateOne({ _id: 'n32' }, { $set: { dueAt: at(32) } });
  });

  it('answers a covered read with skip, limit, batches and several ranges as a scan does', async () => {
    // the H2 backend walks the index in order and stops at skip + limit when the sort is the index's
    const poll = {
      dueAt: { $lte: at(40) },
      $or: [{ dueAt: { $gt: at(30) } }, { dueAt: at(30), _id: { $gt: 'n30' } }],
    };
    const sort = { dueAt: 1, _id: 1 } as const;
    const ids = (docs: Doc[]) => docs.map((doc) => doc._id);
    expect(
      ids(await foundAsScanned('notifications', poll, { projection: { _id: 1, dueAt: 1 }, sort, limit: 4 })),
    ).toEqual(['same-a', 'same-b', 'n31', 'n32']);
    expect(
      ids(
        await foundAsScanned('notifications', poll, {
          projection: { _id: 1, dueAt: 1 },
          sort,
          skip: 3,
          limit: 3,
        }),
      ),
    ).toEqual(['n32', 'n33', 'n34']);
    // the field's order alone: ties in _id order, as the index holds them
    expect(
      ids(
        await foundAsScanned('notifications', poll, { projection: { _id: 1 }, sort: { dueAt: 1 }, limit: 3 }),
      ),
    ).toEqual(['same-a', 'same-b', 'n31']);
    // descending: every match, sorted by the collection, then limited
    expect(
      ids(
        await foundAsScanned('notifications', poll, {
          projection: { _id: 1 },
          sort: { dueAt: -1 },
          limit: 2,
        }),
      ),
    ).toEqual(['n40', 'n39']);
    // ranges apart and overlapping ($in, $or of ranges): each entry once, in order, the gap not in the answer
    const apart = { dueAt: { $in: [at(2), at(55), at(3), at(2)] } };
    expect(
      ids(await foundAsScanned('notifications', apart, { projection: { _id: 1 }, sort, limit: 2 })),
    ).toEqual(['n02', 'n03']);
    const overlapping = {
      $or: [
        { dueAt: { $gte: at(10), $lte: at(13) } },
        { dueAt: { $gte: at(12), $lt: at(15) } },
        { dueAt: at(50) },
      ],
    };
    expect(
      ids(await foundAsScanned('notifications', overlapping, { projection: { _id: 1, dueAt: 1 }, sort })),
    ).toEqual(['n10', 'n11', 'n12', 'n13', 'n14', 'n50']);
    // a limit past a value read from the documents (the number 30 is not covered): the same answers
    expect(
      await foundAsScanned(
        'notifications',
        { dueAt: { $gte: 29 } },
        { projection: { dueAt: 1 }, sort, limit: 1 },
      ),
    ).toEqual([{ _id: 'number-due', dueAt: 30 }]);
    // more than a batch: the cursor's later batches carry the rest, in order
    const batched = await collection('notifications')
      .find(poll, { projection: { _id: 1 }, sort, limit: 9, batchSize: 2 })
      .toArray();
    expect(ids(batched)).toEqual(['same-a', 'same-b', 'n31', 'n32', 'n33', 'n34', 'n35', 'n36', 'n37']);
  });

  it('answers equalities, $in and ranges of dates and numbers as a scan does', async () => {
    expect(await idsOf('notifications', { dueAt: at(30) })).toEqual(['n30', 'same-a', 'same-b']);
    expect(await idsOf('notifications', { dueAt: { $in: [at(1), at(2), 30] } })).toEqual([
      'n01',
      'n02',
      'number-due',
    ]);
    expect(await idsOf('notifications', { dueAt: { $gt: at(57) } })).toEqual(['n58', 'n59']);
    expect(await idsOf('notifications', { dueAt: { $gte: at(1), $lt: at(3) } })).toEqual(['n01', 'n02']);
    expect(await idsOf('notifications', { dueAt: { $lt: at(1) } })).toEqual(['n00']);
    expect(await idsOf('notifications', { dueAt: { $gt: at(5), $lt: at(3) } })).toEqual([]);
    expect(await idsOf('notifications', { dueAt: { $gte: 30 } })).toEqual(['number-due']);
    expect(await idsOf('notifications', { dueAt: 'soon' })).toEqual(['string-due']);
    // left to the scan, and still right
    expect(await idsOf('notifications', { dueAt: null })).toEqual(['no-due', 'null-due']);
    expect(await idsOf('notifications', { dueAt: { $exists: false } })).toEqual(['no-due']);
    expect(await idsOf('notifications', { dueAt: { $gt: 'a' } })).toEqual(['string-due']);
    expect(await idsOf('notifications', { dueAt: { $ne: at(0), $lte: at(1) } })).toEqual(['n01']);
  });

  it('answers an array field element by element, conditions met by different elements included', async () => {
    expect(await idsOf('tags', { tags: 10 })).toEqual(['t1']);
    // MongoDB matches [1, 10] (10 > 5, 1 < 3); 1.47 wants one element for both and matches none.
    // Whichever the matcher says, the index must not narrow it: idsOf compares with the scan.
    await idsOf('tags', { tags: { $gt: 5, $lt: 3 } });
    expect(await idsOf('tags', { tags: { $gte: 4, $lte: 7 } })).toEqual(['t2', 't4']); // (MongoDB: t1 too)
    expect(await idsOf('tags', { tags: { $in: [4, 7] } })).toEqual(['t2', 't4']);
  });

  it('follows updates and deletes', async () => {
    await collection('notifications').insertMany([
      { _id: 'moving', dueAt: at(0) },
      { _id: 'leaving', dueAt: at(0) },
    ]);
    const before = await indexEntries('notifications', 'dueAt_1');
    expect(before).toBe(VALUED + 2);
    await collection('notifications').updateOne({ _id: 'moving' }, { $set: { dueAt: at(59) } });
    await collection('notifications').deleteOne({ _id: 'leaving' });
    expect(await idsOf('notifications', { dueAt: at(0) })).toEqual(['n00']);
    expect(await idsOf('notifications', { dueAt: { $gte: at(59) } })).toEqual(['moving', 'n59']);
    await collection('notifications').updateOne({ _id: 'moving' }, { $unset: { dueAt: '' } });
    expect(await idsOf('notifications', { dueAt: { $gte: at(59) } })).toEqual(['n59']);
    expect(await indexEntries('notifications', 'dueAt_1')).toBe(VALUED);
    // a document with no entry (no value) is updated and removed like any other
    await collection('notifications').updateOne({ _id: 'moving' }, { $set: { other: 1 } });
    await collection('notifications').deleteOne({ _id: 'moving' });
    await collection('notifications').insertOne({ _id: 'null-too', dueAt: null });
    await collection('notifications').deleteOne({ _id: 'null-too' });
    expect(await idsOf('notifications', { dueAt: null })).toEqual(['no-due', 'null-due']);
    expect(await indexEntries('notifications', 'dueAt_1')).toBe(VALUED);
  });

  it('describes itself as created: sparse only when asked for', async () => {
    await collection('described').createIndex({ plain: 1 });
    await collection('described').createIndex({ thin: 1 }, { sparse: true });
    const indexes = await collection('described').listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'plain_1')).not.toHaveProperty('sparse');
    expect(indexes.find((index) => index.name === 'thin_1')).toMatchObject({ sparse: true });
    // the same index asked for again is the one there, not a conflict
    await expect(collection('described').createIndex({ plain: 1 })).resolves.toBe('plain_1');
  });

  it('equates 1 and 1.0, as MongoDB does', async () => {
    await collection('numbers').createIndex({ n: 1 });
    await collection('numbers').insertMany([
      { _id: 'int', n: 1 },
      { _id: 'double', n: 1.5 },
    ]);
    expect(await idsOf('numbers', { n: 1.0 })).toEqual(['int']);
    expect(await idsOf('numbers', { n: { $gt: 1 } })).toEqual(['double']);
  });
});

describe('mongo-java-server on an H2 file: one-field non-unique indexes after a restart', () => {
  it('rebuilds the index from the documents when the file opens', async () => {
    const file = join(DIR, 'restart.mv');
    const open = (use: (db: TestDb) => Promise<void>) => withH2Server(file, 'restart', use);
    await open(async (db) => {
      await db.collection<Doc>('notifications').createIndex({ dueAt: 1 });
      await db.collection<Doc>('notifications').insertMany(NOTIFICATIONS);
    });
    await open(async (db) => {
      const stats = await db.command({ collStats: 'notifications' });
      expect((stats.indexSize as Record<string, number>).dueAt_1).toBe(VALUED);
      const due = await db
        .collection<Doc>('notifications')
        .find({ dueAt: { $gte: at(58) } })
        .toArray();
      expect(due.map((doc) => doc._id).sort()).toEqual(['n58', 'n59']);
    });
  });
});
