import { connectTestMongo } from '@herald/test-support';
import { deliveryModel } from '../src/deliveries/data/delivery-model';
import { emailJob, startHarness, type WorkerHarness } from './harness';

const STARTS = 15;

/**
 * Start-up on an empty database used to race: mongoose creating the collection in the
 * background while the worker built its unique index. The worker now prepares the collection
 * and its index, awaited, before it consumes; a start on a fresh database must never fail.
 */
describe('starting the worker on a fresh database', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('start-up');
  });
  afterAll(() => world.close());

  it(`starts ${STARTS} times in a row, each time with the unique index built before the first job`, async () => {
    for (let start = 1; start <= STARTS; start += 1) {
      const fresh = await connectTestMongo(`start-up-${start}`);
      try {
        const app = await world.startApp({ database: fresh.connection });
        const indexes = await deliveryModel(fresh.connection).collection.indexes();
        expect(indexes).toContainEqual(
          expect.objectContaining({ key: { notificationId: 1, channel: 1 }, unique: true }),
        );
        expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);

        const job = emailJob();
        await world.publishJobs([job]);
        await world.waitForStatus(job.notificationId, 'sent');
        await app.close();
        expect(await deliveryModel(fresh.connection).countDocuments({ state: 'sent' })).toBe(1);
      } finally {
        await fresh.dropAndClose();
      }
    }
  }, 120_000);
});
