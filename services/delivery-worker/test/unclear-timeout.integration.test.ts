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
    await world.startApp({
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
    expect(history).toEqual(['sending', 'retrying', 'sent']);
    const record = await world.delivery(job.notificationId, 'email');
    expect(record).toMatchObject({ state: 'sent', providerMessageId: atMailgun[0]!.messageId });
  }, 60_000);
});
