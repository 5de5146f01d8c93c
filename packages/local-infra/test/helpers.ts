// What the embedded server's tests share: one server on an H2 file at a
// time, opened, used through the driver, and closed again (a restart is two
// calls on the same file); and the check that an index changes no answer.
import { connectMongo, type MongoLogger } from '@herald/runtime/mongo';
import { startMongoJavaServer } from '../src';

export const silent: MongoLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export type TestDb = NonNullable<Awaited<ReturnType<typeof connectMongo>>['db']>;
/** the MongoDB driver (its BSON types), as mongoose exposes it */
export type Driver = Awaited<ReturnType<typeof connectMongo>>['base']['mongo'];

/**
 * Starts the server on `file` with the tests' fast-start JVM (with the
 * library's own H2 backend if asked, to write a file as earlier versions
 * did), connects to `dbName`, runs `use`, then closes the connection and
 * stops the server.
 */
export async function withH2Server(
  file: string,
  dbName: string,
  use: (db: TestDb, driver: Driver) => Promise<void>,
  { libraryH2Backend = false } = {},
): Promise<void> {
  const server = await startMongoJavaServer({ h2File: file, jvmProfile: 'short-lived', libraryH2Backend });
  try {
    const connection = await connectMongo({ url: server.url, dbName, logger: silent, maxAttempts: 1 });
    try {
      await use(connection.db!, connection.base.mongo);
    } finally {
      await connection.close();
    }
  } finally {
    await server.stop();
  }
}

/**
 * The ids `filter` finds in collection `name` (sorted), checked against the same filter
 * wrapped in a top-level $and, which no index answers: a full scan, as the library
 * answered every query before the launcher's indexes.
 */
export async function idsAsScanned(
  db: TestDb,
  name: string,
  filter: Record<string, unknown>,
): Promise<string[]> {
  const collection = db.collection(name);
  const planned = await collection.find(filter).toArray();
  const scanned = await collection.find({ $and: [filter] }).toArray();
  const ids = planned.map((doc) => String(doc._id)).sort();
  expect(ids).toEqual(scanned.map((doc) => String(doc._id)).sort());
  return ids;
}
