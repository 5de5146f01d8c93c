import mongoose from 'mongoose';
import { connectTestMongo, testAmqpUrl, testMongoUrl, uniqueNamespace, waitFor, withDatabase } from '../src';

describe('test-support helpers', () => {
  it('gives every suite its own database and leaves nothing behind', async () => {
    const first = await connectTestMongo('Helpers Suite!');
    const second = await connectTestMongo('Helpers Suite!');
    expect(first.dbName).toMatch(/^herald_test_helpers_suite_[0-9a-f]{6}$/);
    expect(second.dbName).not.toBe(first.dbName);
    await second.dropAndClose();

    await first.connection.collection('things').insertOne({ n: 1 });
    const probe = await mongoose.createConnection(process.env.MONGO_URL!).asPromise();
    try {
      const databases = async () => (await probe.db!.admin().listDatabases()).databases.map((db) => db.name);
      expect(await databases()).toContain(first.dbName);

      await first.dropAndClose();
      await first.dropAndClose(); // a second call is harmless

      expect(await databases()).not.toContain(first.dbName);
    } finally {
      await probe.close();
    }
  });

  it('hands apps a URL for the same kind of fresh database', () => {
    expect(testMongoUrl('notifications')).toMatch(/\/herald_test_notifications_[0-9a-f]{6}$/);
  });

  it('keeps where credentials authenticate when it changes the database', () => {
    expect(withDatabase('mongodb://127.0.0.1:27017', 'd')).toBe('mongodb://127.0.0.1:27017/d');
    expect(withDatabase('mongodb://u:p@h1:1,h2:2/herald?replicaSet=rs', 'd')).toBe(
      'mongodb://u:p@h1:1,h2:2/d?replicaSet=rs&authSource=herald',
    );
    expect(withDatabase('mongodb://u:p@h/?authSource=other', 'd')).toBe('mongodb://u:p@h/d?authSource=other');
    expect(withDatabase('mongodb://u:p@h', 'd')).toBe('mongodb://u:p@h/d?authSource=admin');
  });

  it('makes short, distinct AMQP name prefixes', () => {
    const a = uniqueNamespace('Delivery Worker');
    expect(a).toMatch(/^t-delivery-worker-[0-9a-f]{6}$/);
    expect(uniqueNamespace('Delivery Worker')).not.toBe(a);
  });

  it('exposes the broker URL from global setup', () => {
    expect(testAmqpUrl()).toMatch(/^amqps?:\/\//);
  });

  it('waitFor returns the first truthy value', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 5 })).resolves.toEqual({
      calls: 3,
    });
  });

  it('waitFor times out with what it waited for and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { timeoutMs: 50, intervalMs: 10, description: 'the impossible' },
      ),
    ).rejects.toThrow(/timed out after 50 ms .* waiting for the impossible; last error: not yet/);
  });
});
