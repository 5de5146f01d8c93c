import { waitFor } from '@herald/test-support';
import { deliveryModel } from '../src/deliveries/data/delivery-model';
import {
  emailJob,
  PUBLIC_BASE_URL,
  smsJob,
  startHarness,
  TWILIO_FROM,
  type WorkerHarness,
  workerProcessEnv,
} from './harness';
import { crashTestSeed, READY_TIMEOUT_MS, seededRandom, WorkerProcess } from './worker-process';

const EMAILS = 1_000;
const SMS = 1_000;
const JOBS = EMAILS + SMS;
const KILLS = 5;
/** jobs in flight per channel: a kill leaves up to this many sends of each channel unfinished */
const PREFETCH = 25;

/**
 * How a kill lands: `at-accept` SIGKILLs the worker at the very moment a fake provider accepts a
 * message, before its answer leaves, so the dying worker never records what the provider took
 * (the worst case: every such send is unclear); `anywhere` SIGKILLs it a random few milliseconds
 * later, wherever it then is (claiming, writing a record, publishing a status, acking).
 */
type KillKind = 'at-accept' | 'anywhere';
interface KillPoint {
  /** after how many messages accepted by both fakes together */
  afterAccepted: number;
  kind: KillKind;
  /** `anywhere`: how long after that accept */
  delayMs: number;
}

/** KILLS distinct kill points spread over the run, from the seeded source. */
function killPlan(random: () => number): KillPoint[] {
  const counts = new Set<number>();
  while (counts.size < KILLS) counts.add(40 + Math.floor(random() * (JOBS - 200)));
  return [...counts]
    .sort((a, b) => a - b)
    .map((afterAccepted) => ({
      afterAccepted,
      kind: random() < 0.5 ? 'at-accept' : 'anywhere',
      delayMs: Math.floor(random() * 40),
    }));
}

/**
 * The worker as its own process, SIGKILLed KILLS times at random (seeded) points of a 2,000-message
 * run of emails and SMS, restarted after each kill. Whatever a killed worker left unclear, the
 * next one asks the provider about (Mailgun's events, Twilio's message list) before sending: every
 * message reaches the fakes exactly once, counted at each fake.
 */
describe('the delivery worker SIGKILLed again and again while sending 2,000 emails and SMS', () => {
  let world: WorkerHarness;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    world = await startHarness('delivery-crash-multi-kill', {
      maxAttempts: 10,
      delaysMs: [200, 400],
      jitter: 0,
    });
  });
  afterAll(async () => {
    world.mailgun.onAccepted = undefined;
    world.twilio.onAccepted = undefined;
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await world.close();
  });

  async function startWorker(): Promise<WorkerProcess> {
    const worker = new WorkerProcess(
      await workerProcessEnv(world, {
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
        EMAIL_PREFETCH: String(PREFETCH),
        SMS_PREFETCH: String(PREFETCH),
        RETRY_MAX_ATTEMPTS: '10',
        PROVIDER_TIMEOUT_MS: '2000',
        // a killed worker's leases run out soon, so the next one takes its sends over quickly
        SEND_LEASE_MS: '2500',
        DRAIN_TIMEOUT_MS: '2200',
        SHUTDOWN_TIMEOUT_MS: '6000',
        SMS_RATE_PER_SECOND: '0',
        EMAIL_PROVIDERS: 'mailgun',
        SMS_PROVIDERS: 'twilio',
        TWILIO_ACCOUNT_SID: world.twilio.accountSid,
        TWILIO_AUTH_TOKEN: world.twilio.authToken,
        TWILIO_FROM,
        TWILIO_API_URL: world.twilio.url,
        PUBLIC_BASE_URL,
      }),
    );
    workers.push(worker);
    await worker.start();
    return worker;
  }

  it(
    'delivers every message to the fakes exactly once',
    async () => {
      const seed = crashTestSeed();
      const plan = killPlan(seededRandom(seed));
      // printed so that a failure is repeated with CRASH_TEST_SEED=<seed>
      console.info(`crash test seed ${seed} (CRASH_TEST_SEED=${seed}); kills: ${JSON.stringify(plan)}`);

      const emails = Array.from({ length: EMAILS }, () => emailJob());
      const sms = Array.from({ length: SMS }, () => smsJob());

      let current: WorkerProcess | undefined;
      let killed = 0;
      const accepted = () => world.mailgun.stats().accepted + world.twilio.stats().accepted;
      const kill = (worker: WorkerProcess) => {
        if (current !== worker) return;
        killed += 1;
        worker.killNow();
        current = undefined;
      };
      const maybeKill = () => {
        const point = plan[killed];
        const worker = current;
        if (!worker || !point || accepted() < point.afterAccepted) return;
        if (point.kind === 'at-accept') kill(worker);
        else setTimeout(() => kill(worker), point.delayMs);
      };
      world.mailgun.onAccepted = maybeKill;
      world.twilio.onAccepted = maybeKill;

      await world.publishJobs([...emails, ...sms]);
      const deliveries = deliveryModel(world.mongo.connection);
      const output: string[] = [];
      for (let run = 0; run <= KILLS; run += 1) {
        const worker = await startWorker();
        current = worker;
        if (run < KILLS) {
          await waitFor(() => killed > run, { timeoutMs: 60_000, description: `kill ${run + 1}` });
          expect(await worker.stop('SIGKILL')).toBeNull();
        } else {
          await waitFor(async () => (await deliveries.countDocuments({ state: 'sent' })) === JOBS, {
            timeoutMs: 90_000,
            intervalMs: 250,
            description: `all ${JOBS} deliveries sent`,
          });
          expect(await worker.stop('SIGTERM')).toBe(0);
        }
        output.push(worker.output.join(''));
      }

      // counted at the fakes: each email and each SMS exactly once
      const emailIds = world.mailgun.accepted.map((request) => request.fields['v:notification-id']![0]!);
      expect(emailIds).toHaveLength(EMAILS);
      expect(new Set(emailIds)).toEqual(new Set(emails.map((job) => job.notificationId)));
      const smsNumbers = world.twilio.accepted.map((request) => request.recipient);
      expect(smsNumbers).toHaveLength(SMS);
      expect(new Set(smsNumbers)).toEqual(new Set(sms.map((job) => job.recipient.phone)));
      expect(await world.queueDepth(world.amqp.names.queues.deadLetter)).toBe(0);
      // the killed workers left sends the providers had taken; the next ones asked instead of resending
      expect(world.mailgun.lookups + world.twilio.lookups).toBeGreaterThan(0);
      if (plan.some((point) => point.kind === 'at-accept')) {
        expect(
          output.join('').match(/the provider had taken the earlier send/g)?.length ?? 0,
        ).toBeGreaterThan(0);
      }
    },
    180_000 + (KILLS + 1) * READY_TIMEOUT_MS,
  );
});
