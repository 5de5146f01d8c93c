// A send to a large topic with the delivery worker as its own process,
// SIGKILLed in the middle of the campaign at the moment the fake Mailgun
// accepts a message (before its answer leaves, so the dying worker never
// records it), then started again. Every member must be emailed exactly
// once, counted at the fake Mailgun; members who turned email off and
// members whose address is suppressed, never.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { FakeMailgun } from '@herald/fake-providers';
import { stopProcess, waitUntilReady } from '@herald/local-infra';
import { freePort, testAmqpUrl, testMongoUrl, waitFor } from '@herald/test-support';
import { suppressionKey } from '../src/webhooks/data/webhook-models';
import { startHarness, type Harness } from './harness';

/**
 * The issue asks for 20,000, and it passes here; the default stays 1,000
 * for the suite's time budget (20,000 takes three to four minutes).
 * mongo-java-server (the test database here) keeps only unique indexes, and
 * 1.47 uses one only when a query's fields are exactly the index's: any
 * other query scans the collection. Our launcher also uses a unique index
 * for a query that holds all its keys as plain equalities plus other fields
 * (packages/local-infra, EqualitySupersetRule.java). That turned the
 * notification service's compare-and-set per status report,
 * `updateOne({ _id, deliveries.email.status, attempt, history.messageId })`,
 * from a scan of every notification of the run into an _id lookup (by hand,
 * at 20,000 documents: 9.3 ms a call before, 1.1 ms after). The other scan
 * per report, the unread count for the realtime event, went with fbe9813 (a
 * delivery status carries no count). What still scans is per poll or per
 * batch, not per email: the outbox relay's due query and the member pages,
 * about 300 scans in a 20,000 run (counted 2026-12-05). Measured 2026-12-05
 * on the shared 2-core machine, Jest's time: 2,000 members 52.1 and 42.1 s
 * before, 52.2 and 41.7 s after (no difference at that size: the kill, the
 * restart and the leases dominate); 20,000 members 531 s before (the kill
 * at 187 s), 204 s and 228 s after (the fan-out 29 s, the kill at 6,634
 * emails at 68 s, all 19,900 accepted at 202 s). TOPIC_CRASH_MEMBERS runs
 * another size; the waits below grow with it.
 */
const MEMBERS = Number(process.env.TOPIC_CRASH_MEMBERS ?? 1_000);
/** a run of more than 5,000 members gets the waits below in proportion (20,000: four times) */
const WAIT_SCALE = Math.max(1, MEMBERS / 5_000);
const MUTED = 50;
const SUPPRESSED = 50;
const EXPECTED = MEMBERS - MUTED - SUPPRESSED;
const REPO_ROOT = resolve(__dirname, '../../..');
const MAILGUN_DOMAIN = 'mg.herald.test';

const startedAt = Date.now();
/** Where the time goes (printed, never asserted): the report quotes it. */
const progress = (step: string) =>
  process.stdout.write(
    `[topic crash ${MEMBERS}] ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${step}\n`,
  );

const idOf = (index: number) => `member-${String(index).padStart(6, '0')}`;
const emailOf = (index: number) => `${idOf(index)}@example.com`;

describe(`a send to a ${MEMBERS}-member topic with the worker killed midway`, () => {
  let harness: Harness;
  let mailgun: FakeMailgun;
  const workers: ChildProcess[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    harness = await startHarness('notification-topic-crash', {
      // the production grace (15 s) made the relay republish jobs whose confirmations lagged under load
      settings: {
        broadcastBatchSize: 500,
        outboxGraceMs: 60_000,
        outboxLeaseMs: 60_000,
        // a send to a topic is charged per member: this application may send the whole campaign
        sendQuotas: {
          in_app: { perMinute: 0, perDay: 0 },
          email: { perMinute: 0, perDay: 0 },
          sms: { perMinute: 0, perDay: 0 },
          push: { perMinute: 0, perDay: 0 },
        },
      },
    });
    mailgun = await FakeMailgun.start({ maxRecorded: MEMBERS * 2 });
  }, 60_000);
  let fanOutWatch: NodeJS.Timeout | undefined;
  afterAll(async () => {
    clearInterval(fanOutWatch);
    mailgun.onAccepted = undefined;
    await Promise.all(workers.map((worker) => stopProcess(worker, { graceMs: 5_000 })));
    await mailgun.close();
    await harness.close();
  }, 60_000);

  async function startWorker(workerDb: string): Promise<ChildProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--conditions=@herald/source', '--import', 'tsx', 'services/delivery-worker/src/server.ts'],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
          HOST: '127.0.0.1',
          PORT: String(port),
          MONGO_URL: workerDb,
          AMQP_URL: testAmqpUrl(),
          AMQP_NAMESPACE: harness.names.namespace,
          RETRY_DELAYS_MS: '200,400',
          RETRY_JITTER: '0',
          RETRY_MAX_ATTEMPTS: '10',
          EMAIL_RATE_PER_SECOND: '0',
          // 10, as the worker's own crash tests run it. At 50, on this loaded machine, the fake Mailgun
          // took 1–6 jobs twice per run (same notification, same job id), with this lease and grace
          // too; never at 10 (1,000 and 3,000 members). Left open in the #24 report: the worker's.
          EMAIL_PREFETCH: process.env.TOPIC_CRASH_PREFETCH ?? '10',
          EMAIL_PROVIDERS: 'mailgun',
          // The production lease (30 s). With 2.5 s and 9 s on this loaded machine, a second copy
          // of a job (the outbox relay republishes what it has no confirmation of yet) took over a
          // send still on its way to the provider, the provider lookup did not find it yet, and
          // Mailgun got it twice: see the report of #24.
          PROVIDER_TIMEOUT_MS: '8000',
          SEND_LEASE_MS: '30000',
          DRAIN_TIMEOUT_MS: '8500',
          SHUTDOWN_TIMEOUT_MS: '12000',
          MAILGUN_API_KEY: mailgun.apiKey,
          MAILGUN_DOMAIN,
          MAILGUN_FROM: `Herald <noreply@${MAILGUN_DOMAIN}>`,
          MAILGUN_URL: mailgun.url,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    workers.push(child);
    await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, { child, timeoutMs: 90_000 }).catch(
      (error: unknown) => {
        throw new Error(`${(error as Error).message}; output: ${output.join('').slice(-2000)}`);
      },
    );
    return child;
  }

  it(
    'emails every member exactly once; muted and suppressed members never',
    async () => {
      const { models } = harness;
      // The read models as auth's events leave them (their consumption is tested in topics.send.test.ts):
      // seeded in bulk here, the subject is the send.
      const indexes = Array.from({ length: MEMBERS }, (_, index) => index);
      for (let start = 0; start < MEMBERS; start += 5_000) {
        const page = indexes.slice(start, start + 5_000);
        await models.subscribers.insertMany(
          page.map((index) => ({
            _id: idOf(index),
            subscriberId: `sub:${idOf(index)}`,
            email: emailOf(index),
            revision: 1,
          })),
          { ordered: false },
        );
        await models.topicMembers.insertMany(
          page.map((index) => ({ topic: 'campaign', externalId: idOf(index), removed: false, revision: 2 })),
          { ordered: false },
        );
      }
      await models.topics.create({ _id: 'campaign', name: 'Campaign', revision: 2 });
      // the first MUTED members turned email off (through the API), the next SUPPRESSED bounced before
      const writer = (await harness.createApiKey(['subscribers:write'])).key;
      for (let index = 0; index < MUTED; index += 1) {
        const muted = await harness.request('PUT', `/api/v1/preferences/subscribers/${idOf(index)}`, {
          token: writer,
          body: { channels: { email: false }, categories: {} },
        });
        expect(muted.statusCode).toBe(200);
      }
      await models.suppressions.insertMany(
        Array.from({ length: SUPPRESSED }, (_, offset) => ({
          _id: suppressionKey(emailOf(MUTED + offset)),
          channel: 'email',
          reason: 'bounced',
          provider: 'mailgun',
          createdAt: new Date(),
        })),
      );

      const sender = (await harness.createApiKey(['notifications:send', 'notifications:read'])).key;
      const workerDb = testMongoUrl('topic-crash-worker');
      const first = await startWorker(workerDb);
      // killed as the provider takes the message a third of the way through: its answer never leaves
      const killAt = Math.floor(EXPECTED / 3);
      mailgun.onAccepted = () => {
        if (mailgun.stats().accepted >= killAt) first.kill('SIGKILL');
      };

      const accepted = await harness.request('POST', '/api/v1/notifications', {
        token: sender,
        body: { recipient: { topic: 'campaign' }, channels: ['email'], title: 'The campaign', body: 'Hello' },
      });
      expect(accepted.statusCode).toBe(202);
      progress('send accepted');
      expect(accepted.json().recipientCount).toBe(MEMBERS);
      const { topicSendId } = accepted.json();
      // where the time goes: the fan-out's end, printed (never asserted)
      fanOutWatch = setInterval(() => {
        void models.topicSends
          .findById(topicSendId)
          .lean()
          .then((send) => {
            if (send?.state !== 'completed') return;
            clearInterval(fanOutWatch);
            progress(`fan-out stored all ${MEMBERS} members' notifications`);
          })
          .catch(() => undefined);
      }, 1_000);

      await waitFor(() => first.signalCode === 'SIGKILL', {
        timeoutMs: 240_000 * WAIT_SCALE,
        intervalMs: 200,
        description: 'the first worker killed mid-campaign',
      }).catch(async (error: unknown) => {
        const progress = await models.topicSends.findById(topicSendId).lean();
        throw new Error(
          `${(error as Error).message}; fake Mailgun: ${JSON.stringify(mailgun.stats())}; send: ${JSON.stringify(progress)}; worker: ${output.join('').slice(-3000)}`,
        );
      });
      mailgun.onAccepted = undefined;
      const acceptedBeforeKill = mailgun.stats().accepted;
      progress(`worker killed after ${acceptedBeforeKill} emails at ${new Date().toISOString()}`);
      expect(acceptedBeforeKill).toBeGreaterThanOrEqual(killAt);
      expect(acceptedBeforeKill).toBeLessThan(EXPECTED);

      await startWorker(workerDb);
      await waitFor(() => mailgun.stats().accepted >= EXPECTED, {
        timeoutMs: 400_000 * WAIT_SCALE,
        intervalMs: 500,
        description: `all ${EXPECTED} emails accepted by the fake Mailgun`,
      }).catch(async (error: unknown) => {
        const progress = await models.topicSends.findById(topicSendId).lean();
        throw new Error(
          `${(error as Error).message}; fake Mailgun: ${JSON.stringify(mailgun.stats())}; send: ${JSON.stringify(progress)}; workers: ${output.join('').slice(-3000)}`,
        );
      });

      progress(`all ${EXPECTED} emails accepted`);
      const recipients = mailgun.requests
        .filter((request) => request.outcome === 'accepted')
        .map((request) => request.fields.to![0]!);
      if (recipients.length !== EXPECTED) {
        const seen = new Map<string, string[]>();
        for (const request of mailgun.requests.filter((r) => r.outcome === 'accepted')) {
          const to = request.fields.to![0]!;
          seen.set(to, [
            ...(seen.get(to) ?? []),
            `${request.fields['v:notification-id']?.[0]}@${request.receivedAt.toISOString()}`,
          ]);
        }
        process.stdout.write(
          `DUPES ${JSON.stringify([...seen].filter(([, ids]) => ids.length > 1).slice(0, 5))}\n`,
        );
        process.stdout.write(`FIELDS ${JSON.stringify(Object.keys(mailgun.requests[0]!.fields))}\n`);
      }
      expect(recipients).toHaveLength(EXPECTED);
      const counted = new Set(recipients.map((to) => /member-\d+@example\.com/.exec(to)![0]));
      expect(counted.size).toBe(EXPECTED);
      for (let index = 0; index < MUTED + SUPPRESSED; index += 1)
        expect(counted.has(emailOf(index))).toBe(false);
      expect(counted.has(emailOf(MEMBERS - 1))).toBe(true);

      const send = await models.topicSends.findById(topicSendId).lean();
      expect(send).toMatchObject({ state: 'completed', processedCount: MEMBERS, notifiedCount: MEMBERS });
      progress('fan-out complete');
      // the stats reach the same numbers once the worker's reports are in
      const stats = await waitFor(
        async () => {
          const reply = await harness.request('GET', `/api/v1/topic-sends/${topicSendId}`, { token: sender });
          return reply.json().channels.email.sent === EXPECTED ? reply.json() : undefined;
        },
        { timeoutMs: 180_000 * WAIT_SCALE, intervalMs: 1_000, description: 'every sent status applied' },
      ).catch(async (error: unknown) => {
        const statuses = await models.notifications.aggregate([
          { $match: { broadcastId: topicSendId } },
          { $group: { _id: '$deliveries.email.status', n: { $sum: 1 } } },
        ]);
        const reply = await harness.request('GET', `/api/v1/topic-sends/${topicSendId}`, { token: sender });
        throw new Error(
          `${(error as Error).message}; statuses ${JSON.stringify(statuses)}; stats ${reply.body}`,
        );
      });
      expect(stats.channels.email).toMatchObject({
        recipients: MEMBERS,
        sent: EXPECTED,
        skipped: MUTED,
        suppressed: SUPPRESSED,
        pending: 0,
      });
      progress('stats complete');
      // nothing sent after all that: no duplicate on a late redelivery
      expect(mailgun.stats().accepted).toBe(EXPECTED);
    },
    15 * 60_000 * WAIT_SCALE,
  );
});
