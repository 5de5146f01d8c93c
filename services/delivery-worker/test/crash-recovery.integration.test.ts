import { waitFor } from '@herald/test-support';
import { READY_TIMEOUT_MS, WorkerProcess } from './worker-process';
import { deliveryModel } from '../src/deliveries/data/delivery-model';
import { emailJob, startHarness, type WorkerHarness, workerProcessEnv } from './harness';

const JOBS = 200;
const PREFETCH = 10;

describe('the delivery worker killed in the middle of a batch', () => {
  let world: WorkerHarness;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    world = await startHarness('delivery-crash');
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await world.close();
  });

  async function startWorker(): Promise<WorkerProcess> {
    const worker = new WorkerProcess(
      await workerProcessEnv(world, {
        EMAIL_PREFETCH: String(PREFETCH),
        RETRY_MAX_ATTEMPTS: '5',
        PROVIDER_TIMEOUT_MS: '8000',
        SEND_LEASE_MS: '9000',
        DRAIN_TIMEOUT_MS: '8500',
        SHUTDOWN_TIMEOUT_MS: '12000',
      }),
    );
    workers.push(worker);
    await worker.start();
    return worker;
  }

  it(
    'after a restart, loses nothing and sends nothing twice',
    async () => {
      const jobs = Array.from({ length: JOBS }, () => emailJob());
      await world.publishJobs(jobs);
      const deliveries = deliveryModel(world.mongo.connection);

      const first = await startWorker();
      await waitFor(() => world.mailgun.accepted.length >= JOBS / 4, {
        timeoutMs: 20_000,
        description: 'a quarter of the batch sent',
      });
      // From now on the provider holds every request unanswered, so at the moment of the kill the
      // worker has a full prefetch of sends in flight, none of them accepted by the provider.
      world.mailgun.failNext(Number.MAX_SAFE_INTEGER, 'timeout');
      await waitFor(() => world.mailgun.held.length === PREFETCH, {
        timeoutMs: 10_000,
        description: `${PREFETCH} sends in flight`,
      });
      expect(await first.stop('SIGKILL')).toBeNull();

      const sentBeforeKill = world.mailgun.accepted.length;
      expect(sentBeforeKill).toBeGreaterThanOrEqual(JOBS / 4);
      expect(sentBeforeKill).toBeLessThan(JOBS - PREFETCH);
      // the killed worker's sockets close: the provider never took the held messages
      await waitFor(() => world.mailgun.held.length === 0, { description: 'the held requests dropped' });
      world.mailgun.clearFailures();
      // the crash left leases on the in-flight sends and every accepted send recorded
      expect(await deliveries.countDocuments({ state: 'sending' })).toBe(PREFETCH);
      expect(await deliveries.countDocuments({ state: 'sent' })).toBe(sentBeforeKill);

      const second = await startWorker();
      await waitFor(async () => (await deliveries.countDocuments({ state: 'sent' })) === JOBS, {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `all ${JOBS} deliveries sent`,
      });

      const accepted = world.mailgun.accepted.map((request) => request.fields['v:notification-id']![0]!);
      expect(accepted).toHaveLength(JOBS);
      expect(new Set(accepted)).toEqual(new Set(jobs.map((job) => job.notificationId)));
      expect(await world.queueDepth(world.amqp.names.queues.deadLetter)).toBe(0);
      // the held sends were taken over once their leases ran out, and said so
      expect(
        second.output.join('').match(/a previous send of this job stopped without a result/g),
      ).toHaveLength(PREFETCH);

      // and a polite stop drains and exits cleanly
      expect(await second.stop('SIGTERM')).toBe(0);
      expect(await world.queueDepth(world.amqp.names.queues.work.email)).toBe(0);
    },
    60_000 + 2 * READY_TIMEOUT_MS,
  ); // two worker starts, each allowed READY_TIMEOUT_MS
});
