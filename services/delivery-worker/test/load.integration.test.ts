import { type FailureKind } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { deliveryModel } from '../src/deliveries/data/delivery-model';
import { emailJob, startHarness, testSettings, type WorkerHarness } from './harness';

const JOBS = 1_000;
const FAILING = JOBS / 10;
/** A mix of what providers do under load: errors, throttling with Retry-After, dropped connections. */
const FAILURE_KINDS: FailureKind[] = ['server_error', 'rate_limited', 'disconnect', { status: 502 }];

describe('the delivery worker under load', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('delivery-load', { maxAttempts: 5, delaysMs: [100, 200], jitter: 0 });
  });
  afterAll(() => world.close());

  it('sends 1,000 jobs with 10 % transient failures exactly once each', async () => {
    const jobs = Array.from({ length: JOBS }, () => emailJob());
    jobs.slice(0, FAILING).forEach((job, index) => {
      world.mailgun.failFor(job.recipient.email, FAILURE_KINDS[index % FAILURE_KINDS.length]!, 1);
    });
    // Worker, fake provider and broker client share one CPU-starved test process here, so a
    // request can wait seconds before the fake reads it. A send that times out after the provider
    // took it is the documented at-least-once window, which the SIGKILL suite is about; this test
    // gives the provider time enough never to hit it.
    await world.startApp({
      settings: testSettings({ prefetch: { email: 50, sms: 10, push: 10 }, leaseMs: 60_000 }),
      providers: world.providers(45_000),
    });
    await world.publishJobs(jobs);

    await waitFor(() => world.statuses.filter((status) => status.status === 'sent').length >= JOBS, {
      timeoutMs: 45_000,
      intervalMs: 100,
      description: `${JOBS} sent statuses`,
    });

    const accepted = world.mailgun.accepted.map((request) => request.fields['v:notification-id']![0]!);
    expect(accepted).toHaveLength(JOBS);
    expect(new Set(accepted).size).toBe(JOBS);
    expect(new Set(accepted)).toEqual(new Set(jobs.map((job) => job.notificationId)));
    expect(world.mailgun.requests).toHaveLength(JOBS + FAILING);
    expect(world.statuses.filter((status) => status.status === 'retrying')).toHaveLength(FAILING);
    expect(
      world.statuses.filter((status) => status.status === 'dead' || status.status === 'failed'),
    ).toHaveLength(0);
    const records = deliveryModel(world.mongo.connection);
    expect(await records.countDocuments({ state: 'sent' })).toBe(JOBS);
    expect(await records.countDocuments({ attempts: { $gt: 2 } })).toBe(0);
    expect(await world.queueDepth(world.amqp.names.queues.work.email)).toBe(0);
    expect(await world.queueDepth(world.amqp.names.queues.deadLetter)).toBe(0);
  }, 60_000);
});
