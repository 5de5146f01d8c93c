import { TestTokenIssuer, connectTestMongo, createTestAmqp, testLogger } from '@herald/test-support';
import { buildApp } from '../src/app';

/*
 * On an empty database, the lease-owner migration's updateMany used to race
 * mongoose's background createCollection, and mongo-java-server refused the
 * second creator ("… already existed in … system.namespaces"): a start that
 * failed now and then. Collections are now prepared, awaited, before the
 * migration; a fresh database each time is the case that used to fail.
 */
describe('start-up on a fresh database', () => {
  let broker: Awaited<ReturnType<typeof createTestAmqp>>;
  beforeAll(async () => {
    broker = await createTestAmqp('notif-startup');
  });
  afterAll(() => broker.cleanup());

  it('builds the app 15 times in a row, each on a database of its own', async () => {
    const issuer = new TestTokenIssuer();
    const databases = new Set<string>();
    for (let run = 0; run < 15; run += 1) {
      const mongo = await connectTestMongo('notif-startup');
      databases.add(mongo.dbName);
      try {
        const app = await buildApp({
          logger: testLogger(),
          mongo: mongo.connection,
          amqp: broker.client,
          verifier: issuer.verifier(),
        });
        // Built means migrated and indexed: the lease owner's unique index exists.
        expect(await app.context.models.notifications.collection.indexExists('outboxLeaseOwner_1')).toBe(
          true,
        );
        await app.close();
      } finally {
        await mongo.dropAndClose();
      }
    }
    expect(databases.size).toBe(15);
    // 15 full starts (every collection and index of a growing service, on a fresh database each):
    // a bound on a hang, not a timing assertion; under a loaded machine one start takes seconds
  }, 180_000);
});
