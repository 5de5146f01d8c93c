import { waitFor, withDatabase } from '@herald/test-support';
import { deliveryModel } from '../src/deliveries/data/delivery-model';
import { emailJob, startHarness, type WorkerHarness, workerProcessEnv } from './harness';
import { READY_TIMEOUT_MS, startFreezableProxy, WorkerProcess } from './worker-process';

const JOBS = 60;
const PREFETCH = 10;

/**
 * The records of many sends go to MongoDB in batches. A batch still on its way
 * when the worker dies must not have been taken as written: no `sent` status,
 * no ack for a job whose own `sent` mark is not in MongoDB, so after a restart
 * nothing is lost; and those sends — the provider took them but the record
 * never said so — are found at the provider (Mailgun's events), not sent again.
 */
describe('the delivery worker killed while its record writes are held', () => {
  let world: WorkerHarness;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    world = await startHarness('delivery-crash-batch');
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await world.close();
  });

  async function startWorker(mongoUrl: string): Promise<WorkerProcess> {
    const worker = new WorkerProcess(
      await workerProcessEnv(world, {
        MONGO_URL: mongoUrl,
        EMAIL_PREFETCH: String(PREFETCH),
        PROVIDER_TIMEOUT_MS: '3000',
        SEND_LEASE_MS: '4000',
        DRAIN_TIMEOUT_MS: '3500',
        SHUTDOWN_TIMEOUT_MS: '8000',
      }),
    );
    workers.push(worker);
    await worker.start();
    return worker;
  }

  it(
    'acks only jobs whose sent mark was written, and after a restart loses none and resends none',
    async () => {
      const mongo = new URL(world.mongo.url);
      const proxy = await startFreezableProxy({ host: mongo.hostname, port: Number(mongo.port) });
      const deliveries = deliveryModel(world.mongo.connection);
      const jobs = Array.from({ length: JOBS }, () => emailJob());
      // each send takes a while at the provider, so some are always under way
      world.mailgun.latencyMs = 300;
      await world.publishJobs(jobs);

      const first = await startWorker(withDatabase(`mongodb://127.0.0.1:${proxy.port}`, world.mongo.dbName));
      await waitFor(() => world.mailgun.accepted.length >= PREFETCH && world.mailgun.held.length > 0, {
        timeoutMs: 20_000,
        description: 'some sends done and some under way',
      });
      // MongoDB stops hearing from the worker: the sends under way finish at the provider, but
      // their `sent` marks (batched) never arrive.
      proxy.freeze();
      await waitFor(() => world.mailgun.held.length === 0, { description: 'the provider to answer them' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await first.stop('SIGKILL')).toBeNull();
      await proxy.close();

      const accepted = () =>
        world.mailgun.accepted.map((request) => request.fields['v:notification-id']![0]!);
      const acceptedBeforeKill = accepted();
      const recordedSent = (await deliveries.find({ state: 'sent' }, { notificationId: 1 }).lean()).map(
        (delivery) => delivery.notificationId,
      );
      const reportedSent = world.statuses
        .filter((status) => status.status === 'sent')
        .map((status) => status.notificationId);
      const unrecorded = acceptedBeforeKill.filter((id) => !recordedSent.includes(id));
      // the window was really hit: the provider has sends whose records never said sent
      expect(unrecorded.length).toBeGreaterThan(0);
      // and none of those was reported sent (nor, therefore, acked): a report means a durable record
      expect(reportedSent.filter((id) => !recordedSent.includes(id))).toEqual([]);
      expect(new Set(acceptedBeforeKill).size).toBe(acceptedBeforeKill.length);

      const second = await startWorker(world.mongo.url);
      await waitFor(async () => (await deliveries.countDocuments({ state: 'sent' })) === JOBS, {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `all ${JOBS} deliveries sent`,
      });
      world.mailgun.latencyMs = 0;

      const all = accepted();
      // nothing lost
      expect(new Set(all)).toEqual(new Set(jobs.map((job) => job.notificationId)));
      // nothing sent twice: the sends inside the window were taken over once their leases ran out,
      // and Mailgun, asked first, said it had them
      expect(all).toHaveLength(JOBS);
      expect(
        second.output.join('').match(/a previous send of this job stopped without a result/g),
      ).toHaveLength(unrecorded.length);
      expect(world.mailgun.lookups).toBeGreaterThanOrEqual(unrecorded.length);
      for (const id of unrecorded) {
        const original = world.mailgun.accepted.find(
          (request) => request.fields['v:notification-id']![0] === id,
        );
        expect(await world.delivery(id, 'email')).toMatchObject({
          state: 'sent',
          providerMessageId: original!.messageId,
        });
      }
      expect(await world.queueDepth(world.amqp.names.queues.deadLetter)).toBe(0);
      expect(await second.stop('SIGTERM')).toBe(0);
    },
    60_000 + 2 * READY_TIMEOUT_MS,
  ); // two worker starts, each allowed READY_TIMEOUT_MS
});
