import { emailJob, startHarness, testSettings, type WorkerHarness } from './harness';

/**
 * A send that timed out after Mailgun took it, while Mailgun's events API does not show the message
 * yet (its events lag the send API by seconds to minutes): the retry must not trust the lookup's
 * "not found" before the provider had time to record the first call. Before the fix the retry
 * asked 200 ms later, found nothing and sent again: Mailgun accepted the email twice.
 */
describe('a timed-out send that the provider took but does not show yet', () => {
  let world: WorkerHarness;
  /** Mailgun shows an accepted message in its events this long after it took it */
  const LOOKUP_LAG_MS = 2_500;

  beforeAll(async () => {
    world = await startHarness('delivery-unclear-timeout');
  });
  afterAll(() => world.close());

  it('is looked up once the provider can show it, and is not sent again', async () => {
    world.mailgun.lookupLagMs = LOOKUP_LAG_MS;
    const app = await world.startApp({
      // the first call is asked about only LOOKUP_LAG_MS + 1 s after it started
      settings: testSettings({
        prefetch: { email: 1, sms: 1, push: 1 },
        lookupDelayMs: LOOKUP_LAG_MS + 1_000,
      }),
      providers: {
        email: [world.mailgunProvider(300)],
        sms: [world.twilioProvider()],
        push: [world.pushProvider()],
      },
    });
    // Mailgun takes the message, its answer never arrives: the client times out after 300 ms
    world.mailgun.lostAnswers = 1;
    const job = emailJob();
    await world.publishJobs([job]);
    const sent = await world.waitForStatus(job.notificationId, 'sent', 20_000);

    const atMailgun = world.mailgun.requests.filter(
      (request) => request.fields['v:notification-id']?.[0] === job.notificationId,
    );
    expect(atMailgun.map((request) => request.outcome)).toEqual(['accepted']);
    expect(sent.providerMessageId).toBe(atMailgun[0]!.messageId);
    expect(world.mailgun.lookups).toBeGreaterThanOrEqual(1);
    const history = world.statusesOf(job.notificationId).map((status) => status.status);
    expect(history).toEqual(['retrying', 'sent']);
    const record = await world.delivery(job.notificationId, 'email');
    expect(record).toMatchObject({ state: 'sent', providerMessageId: atMailgun[0]!.messageId });
    await app.close();
  }, 60_000);

  it('is not sent by a worker whose lease ran out while it waited', async () => {
    world.mailgun.reset();
    world.mailgun.lookupLagMs = LOOKUP_LAG_MS;
    await world.startApp({
      // A lookup delay longer than the lease (the configuration refuses it; here it makes the lease
      // run out during the wait for sure): the retry's wait outlives its lease, the lookup does not
      // find the send yet, and the worker must not call Mailgun, since another worker may own the
      // send by now. The last attempt waits past Mailgun's lag and finds the first send.
      settings: testSettings({ prefetch: { email: 1, sms: 1, push: 1 }, leaseMs: 700, lookupDelayMs: 1_500 }),
      providers: {
        email: [world.mailgunProvider(300)],
        sms: [world.twilioProvider()],
        push: [world.pushProvider()],
      },
    });
    world.mailgun.lostAnswers = 1;
    const job = emailJob();
    await world.publishJobs([job]);
    await world.waitForStatus(job.notificationId, 'sent', 20_000);

    const atMailgun = world.mailgun.requests.filter(
      (request) => request.fields['v:notification-id']?.[0] === job.notificationId,
    );
    expect(atMailgun.map((request) => request.outcome)).toEqual(['accepted']);
    const history = world.statusesOf(job.notificationId);
    expect(history.map((status) => status.status)).toEqual(['retrying', 'retrying', 'sent']);
    expect(history[1]!.error).toMatchObject({ code: 'send_lease_expired' });
  }, 60_000);
});
