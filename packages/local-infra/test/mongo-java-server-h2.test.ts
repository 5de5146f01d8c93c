// The MongoDB of `pnpm start` when MONGO_URL is unset: mongo-java-server on
// its H2 backend. What a local run relies on is that a stop and a start keep
// the data, and that unique indexes (one email per user) still hold after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo, type MongoLogger } from '@herald/runtime/mongo';
import { startMongoJavaServer } from '../src';

jest.setTimeout(60_000);

// what `pnpm start` runs, but with the test runs' fast-start JVM
const shortLived = { jvmProfile: 'short-lived' } as const;

const silent: MongoLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

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
