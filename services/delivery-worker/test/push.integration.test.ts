import { waitFor } from '@herald/test-support';
import { ProviderPermanentError } from '../src/deliveries/domain/delivery-errors';
import { pushJob, startHarness, VAPID_SUBJECT, type WorkerHarness } from './harness';

/**
 * Web Push through the real `web-push` client to the fake push service over
 * HTTPS: the fake checks the VAPID JWT (ES256 against the key in `k`, which
 * must be this suite's public key; `aud` its origin; `exp` within 24 h) and
 * decrypts the aes128gcm payload with the subscription's own private key,
 * made by the fake as a browser makes it.
 */
describe('Web Push delivery', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('delivery-push');
    await world.startApp();
  });
  afterAll(() => world.close());

  it('reaches every subscription with a valid VAPID JWT and a payload that decrypts to the notification', async () => {
    const phone = world.push.subscribe();
    const laptop = world.push.subscribe();
    const job = pushJob([phone, laptop], { category: 'reports' });
    await world.publishJobs([job]);

    const sent = await world.waitForStatus(job.notificationId, 'sent');
    expect(sent).toMatchObject({ provider: 'webpush', channel: 'push', attempt: 1 });
    expect(sent.providerMessageId).toMatch(new RegExp(`^${world.push.url}/message/`));
    const received = world.push.accepted;
    expect(received.map((push) => push.endpoint).sort()).toEqual([phone.endpoint, laptop.endpoint].sort());
    for (const push of received) {
      expect(push.vapid).toMatchObject({
        aud: world.push.url,
        sub: VAPID_SUBJECT,
        publicKey: world.vapid.publicKey,
      });
      expect(push.vapid!.exp * 1000).toBeGreaterThan(Date.now());
      expect(push.headers['content-encoding']).toBe('aes128gcm');
      expect(push.ttl).toBe(3_600);
      expect(JSON.parse(push.payload!)).toEqual({
        notificationId: job.notificationId,
        title: 'Your report is ready',
        body: 'Hello Ada, your report is ready.',
        category: 'reports',
      });
    }
    expect(world.statusesOf(job.notificationId).map((status) => status.status)).toEqual(['sent']);
  });

  it('reports a subscription the push service says is gone (410), and still delivers to the others', async () => {
    world.push.received.length = 0;
    const revoked = world.push.subscribe();
    const live = world.push.subscribe();
    world.push.gone(revoked.endpoint);
    const job = pushJob([
      { ...revoked, id: 'sub-revoked' },
      { ...live, id: 'sub-live' },
    ]);
    await world.publishJobs([job]);

    await world.waitForStatus(job.notificationId, 'sent');
    const gone = await waitFor(() =>
      world.goneSubscriptions.find((event) => event.payload.subscriptionId === 'sub-revoked'),
    );
    expect(gone.payload).toMatchObject({
      userId: job.recipient.userId,
      endpoint: revoked.endpoint,
      status: 410,
    });
    expect(world.push.accepted.map((push) => push.endpoint)).toEqual([live.endpoint]);
    expect(world.goneSubscriptions.filter((event) => event.payload.subscriptionId === 'sub-live')).toEqual(
      [],
    );
  });

  it('fails permanently when every subscription is gone, reporting each', async () => {
    const first = world.push.subscribe();
    const second = world.push.subscribe();
    world.push.gone(first.endpoint).gone(second.endpoint);
    const job = pushJob([
      { ...first, id: 'gone-1' },
      { ...second, id: 'gone-2' },
    ]);
    await world.publishJobs([job]);

    const failed = await world.waitForStatus(job.notificationId, 'failed');
    expect(failed.error).toMatchObject({
      code: 'push_subscription_gone',
      permanent: true,
      providerCode: '410',
    });
    await waitFor(
      () =>
        world.goneSubscriptions.filter((event) => event.payload.subscriptionId.startsWith('gone-')).length ===
        2,
    );
    await world.nextDeadLetter();
  });

  it('retries a push service outage (503) and sends once it answers', async () => {
    world.push.received.length = 0;
    const browser = world.push.subscribe();
    world.push.failNext(503);
    const job = pushJob([browser]);
    await world.publishJobs([job]);

    await world.waitForStatus(job.notificationId, 'sent');
    const history = world.statusesOf(job.notificationId);
    expect(history.map((status) => status.status)).toEqual(['retrying', 'sending', 'sent']);
    expect(history[0]!.error).toMatchObject({ code: 'provider_unavailable', providerCode: '503' });
    expect(world.push.accepted).toHaveLength(1);
  });

  it('is refused by the push service when signed with another key: the JWT really is checked', async () => {
    world.push.received.length = 0;
    const browser = world.push.subscribe();
    const saved = world.push.expectedVapidPublicKey;
    world.push.expectedVapidPublicKey = 'B'.repeat(87);
    try {
      const job = pushJob([browser]);
      await world.publishJobs([job]);
      const failed = await world.waitForStatus(job.notificationId, 'failed');
      expect(failed.error).toMatchObject({ code: 'provider_auth_failed', providerCode: '403' });
      expect(world.push.accepted).toHaveLength(0);
      await world.nextDeadLetter();
    } finally {
      world.push.expectedVapidPublicKey = saved;
    }
  });

  describe('endpoints on internal addresses (a browser writes them: SSRF)', () => {
    const strict = { allowPrivate: false, allowedHosts: [] };

    it('refuses a loopback endpoint permanently, before any request, unless allowed by config', async () => {
      world.push.received.length = 0;
      const browser = world.push.subscribe();
      expect(new URL(browser.endpoint).hostname).toBe('127.0.0.1');
      const refused = world.pushProvider(5_000, strict).send(pushJob([browser]));
      await expect(refused).rejects.toBeInstanceOf(ProviderPermanentError);
      await expect(refused).rejects.toMatchObject({ code: 'push_target_refused' });
      expect(world.push.received).toHaveLength(0);
      // the same endpoint, allowed by name in config
      const allowed = world.pushProvider(5_000, { allowPrivate: false, allowedHosts: ['127.0.0.1'] });
      await expect(allowed.send(pushJob([browser]))).resolves.toMatchObject({
        providerMessageId: expect.any(String),
      });
      expect(world.push.accepted).toHaveLength(1);
    });

    it('refuses a host name that resolves to an internal address', async () => {
      world.push.received.length = 0;
      const browser = world.push.subscribe();
      const named = { ...browser, endpoint: browser.endpoint.replace('127.0.0.1', 'push.example.test') };
      for (const address of ['10.0.0.5', '169.254.169.254', '::ffff:127.0.0.1']) {
        const provider = world.pushProvider(5_000, strict, async () => [address]);
        await expect(provider.send(pushJob([named]))).rejects.toMatchObject({ code: 'push_target_refused' });
      }
      expect(world.push.received).toHaveLength(0);
    });
  });
});
