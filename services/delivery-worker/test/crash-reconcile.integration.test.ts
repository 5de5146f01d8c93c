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
import { READY_TIMEOUT_MS, WorkerProcess } from './worker-process';

const EMAILS = 150;
const SMS = 150;
const JOBS = EMAILS + SMS;
const KILLS = 3;

/**
 * The worker as its own process, SIGKILLed KILLS times at random points of a
 * 300-message run: each time at the very moment a fake provider accepts a
 * message, before its answer leaves, so the dying worker never records what
 * the provider took. Whatever it left unclear, the next worker asks the
 * provider about (Mailgun's events, Twilio's message list) before sending.
 */
describe('the delivery worker SIGKILLed while sending email and SMS', () => {
  let world: WorkerHarness;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    world = await startHarness('delivery-crash-reconcile', {
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
        EMAIL_PREFETCH: '10',
        SMS_PREFETCH: '10',
        RETRY_MAX_ATTEMPTS: '10',
        PROVIDER_TIMEOUT_MS: '2000',
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
      const emails = Array.from({ length: EMAILS }, () => emailJob());
      const sms = Array.from({ length: SMS }, () => smsJob());
      // random kill points: after how many accepted messages (both fakes together)
      const killAt = new Set<number>();
      while (killAt.size < KILLS) killAt.add(20 + Math.floor(Math.random() * (JOBS - 60)));
      const points = [...killAt].sort((a, b) => a - b);

      let current: WorkerProcess | undefined;
      let killed = 0;
      const accepted = () => world.mailgun.accepted.length + world.twilio.accepted.length;
      const maybeKill = () => {
        if (current && killed < points.length && accepted() >= points[killed]!) {
          killed += 1;
          current.killNow();
          current = undefined;
        }
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
            timeoutMs: 60_000,
            intervalMs: 200,
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
      expect(output.join('').match(/the provider had taken the earlier send/g)?.length ?? 0).toBeGreaterThan(
        0,
      );
    },
    120_000 + (KILLS + 1) * READY_TIMEOUT_MS,
  );
});
