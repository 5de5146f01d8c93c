import { AmqpClient } from '@herald/amqp';
import { TEST_RETRY_POLICY, testAmqpUrl, testLogger, waitFor } from '@herald/test-support';
import { startHarness, type Harness } from './harness';
import { TcpProxy } from './tcp-proxy';

describe('a broker outage at POST time', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let appAmqp: AmqpClient;

  beforeAll(async () => {
    const broker = new URL(testAmqpUrl());
    proxy = new TcpProxy(broker.hostname, Number(broker.port || 5672));
    await proxy.start();
    const proxied = new URL(testAmqpUrl());
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    h = await startHarness('notif-outage', {
      settings: { outboxGraceMs: 300, outboxLeaseMs: 3_000 },
      appAmqp: (namespace) => {
        appAmqp = new AmqpClient({
          url: proxied.toString(),
          logger: testLogger(),
          connectionName: `${namespace}-app`,
          namespace,
          retry: TEST_RETRY_POLICY,
          publishTimeoutMs: 500,
          reconnectSeconds: 0.2,
        });
        return appAmqp;
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
  });

  it('answers 202, and the jobs reach their queues exactly once when the broker is back', async () => {
    const user = await h.registerUser({ phone: '+14155550199' });
    await appAmqp.waitUntilReady();
    await proxy.cut();
    await waitFor(() => !appAmqp.isConnected(), { description: 'the app to lose the broker' });

    // Answered while the broker is still cut: it is restored only further down.
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(user.userId),
      body: {
        title: 'Outage',
        body: 'Still delivered',
        recipient: { userId: user.userId },
        channels: ['email', 'sms'],
      },
    });
    expect(response.statusCode).toBe(202);
    const id = response.json().id as string;

    // The first publish and at least one relay retry fail while the broker is away: the relay
    // re-dates the notification past its watermark instead of settling it.
    const accepted = (await h.models.notifications.findById(id).lean())!;
    await waitFor(
      async () => {
        const record = await h.models.notifications.findById(id).lean();
        return record!.outboxDueAt! > accepted.outboxDueAt!;
      },
      { description: 'a failed relay attempt, re-dated', timeoutMs: 5_000 },
    );
    expect(await h.confirmed(id)).toBe(false);
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);

    await proxy.restore();
    await waitFor(() => h.confirmed(id), {
      description: 'the relay to publish the outbox',
      timeoutMs: 10_000,
    });
    // More relay passes find nothing left to publish.
    await h.app.relay.runOnce();
    await h.app.relay.runOnce();

    const record = (await h.models.notifications.findById(id).lean())!;
    const emails = await h.drain(h.names.queues.work.email);
    const sms = await h.drain(h.names.queues.work.sms);
    expect(emails.map((job) => job.messageId)).toEqual([record.deliveries.email!.jobId]);
    expect(sms.map((job) => job.messageId)).toEqual([record.deliveries.sms!.jobId]);
    expect(emails[0].payload).toMatchObject({ notificationId: id, channel: 'email' });

    // The events consumer is back too (and closing now cannot interrupt its recovery).
    await waitFor(async () => (await h.consumerCount(h.names.queues.notificationEvents)) > 0, {
      description: 'the events consumer to resume',
      timeoutMs: 10_000,
    });
  });
});
