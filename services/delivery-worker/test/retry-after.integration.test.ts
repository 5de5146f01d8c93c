import { type RetryPolicy } from '@herald/amqp';
import { waitFor } from '@herald/test-support';
import { emailJob, startHarness, type WorkerHarness } from './harness';

/**
 * A retry policy whose first step (200 ms) is far shorter than the Retry-After
 * the fake Mailgun asks for (2 s), and whose second step (3 s) is long enough
 * to honour it: the retry must skip to the 3 s delay queue.
 */
const POLICY: RetryPolicy = { maxAttempts: 3, delaysMs: [200, 3_000], jitter: 0 };

describe('a provider Retry-After, through the real broker', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('retry-after', POLICY);
    await world.startApp();
  });
  afterAll(() => world.close());

  it('parks a Mailgun 429 with Retry-After: 2 in a delay queue of at least 2 s, not the 200 ms step', async () => {
    const job = emailJob();
    world.mailgun.failFor(job.recipient.email, { status: 429, retryAfterSeconds: 2 }, 1);
    await world.publishJobs([job]);

    const retrying = await world.waitForStatus(job.notificationId, 'retrying');
    expect(retrying.error).toMatchObject({ code: 'provider_rate_limited', providerCode: '429' });
    // the first step that honours the 2 s asked for: the status says when the retry is due
    expect(Date.parse(retrying.nextAttemptAt!) - Date.parse(retrying.at)).toBe(3_000);

    // The job waits in the 3 s delay queue (TTL ≥ the 2 s asked for), never in the 200 ms one.
    const { delayQueue } = world.amqp.names;
    await waitFor(async () => (await world.queueDepth(delayQueue(3_000))) === 1, {
      description: 'the job in the 3 s delay queue',
    });
    expect(await world.queueDepth(delayQueue(200))).toBe(0);
    expect(world.mailgun.requests).toHaveLength(1);

    await world.waitForStatus(job.notificationId, 'sent', 15_000);
    expect(world.mailgun.accepted).toHaveLength(1);
    expect(world.mailgun.requests).toHaveLength(2);
  });
});
