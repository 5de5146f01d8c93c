// Writes from several connections at once into a collection that does not
// exist yet: each write creates it if absent. mongo-java-server 1.47 checks
// and creates without a lock, so two connections could both create it; the
// second then failed on system.namespaces (a duplicate key error for a plain
// insert) and, in memory, replaced the first's collection object, losing
// what was written to it meanwhile. The launcher's backends create a
// collection once, under the database's lock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo } from '@herald/runtime/mongo';
import { startMongoJavaServer, type EmbeddedMongo } from '../src';
import { silent } from './helpers';

jest.setTimeout(60_000);

const DIR = mkdtempSync(join(tmpdir(), 'herald-concurrent-create-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const COLLECTIONS = 40;
const WRITERS = 8;

describe.each([
  ['in memory', () => startMongoJavaServer({ jvmProfile: 'short-lived' })],
  ['on an H2 file', () => startMongoJavaServer({ h2File: join(DIR, 'each.mv'), jvmProfile: 'short-lived' })],
])('mongo-java-server %s: a collection created by concurrent writes', (_backend, start) => {
  let server: EmbeddedMongo;
  let connections: Awaited<ReturnType<typeof connectMongo>>[];

  beforeAll(async () => {
    server = await start();
    // separate clients: each write on a connection of its own, served by its own server thread
    connections = await Promise.all(
      Array.from({ length: WRITERS }, () =>
        connectMongo({ url: server.url, dbName: 'concurrent', logger: silent, maxAttempts: 1 }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all((connections ?? []).map((connection) => connection.close()));
    await server?.stop();
  });

  it('is created once: every write lands, none fails, each collection listed once', async () => {
    const names = Array.from({ length: COLLECTIONS }, (_, index) => `fresh_${index}`);
    const results = await Promise.allSettled(
      names.flatMap((name) =>
        connections.map((connection, writer) =>
          connection.db!.collection(name).insertOne({ _id: `w${writer}` } as never),
        ),
      ),
    );
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [String((result.reason as Error).message)] : [],
    );
    expect(failures).toEqual([]);
    const db = connections[0]!.db!;
    for (const name of names) {
      expect({ name, count: await db.collection(name).countDocuments() }).toEqual({ name, count: WRITERS });
    }
    const listed = (await db.listCollections().toArray()).map((collection) => collection.name);
    expect(listed.filter((name) => name.startsWith('fresh_')).sort()).toEqual([...names].sort());
  });

  it('answers create commands and index builds racing the writes: created once, listed once, every write lands', async () => {
    const names = Array.from({ length: COLLECTIONS }, (_, index) => `created_${index}`);
    const db = connections[0]!.db!;
    const results = await Promise.allSettled(
      names.flatMap((name) => [
        // as two instances preparing one fresh database do: create, index, write
        ...connections.slice(0, 3).map((connection) => connection.db!.createCollection(name)),
        ...connections
          .slice(0, 3)
          .map((connection) => connection.db!.collection(name).createIndex({ at: 1 })),
        ...connections.map((connection, writer) =>
          connection.db!.collection(name).insertOne({ _id: `w${writer}` } as never),
        ),
      ]),
    );
    // the create command may find the collection there already (NamespaceExists), as MongoDB answers
    const failures = results.flatMap((result) =>
      result.status === 'rejected' && !/already exists/.test(String((result.reason as Error).message))
        ? [String((result.reason as Error).message)]
        : [],
    );
    expect(failures).toEqual([]);
    for (const name of names) {
      expect({ name, count: await db.collection(name).countDocuments() }).toEqual({ name, count: WRITERS });
    }
    const listed = (await db.listCollections().toArray()).map((collection) => collection.name);
    expect(listed.filter((name) => name.startsWith('created_')).sort()).toEqual([...names].sort());
  });
});
