import { FakeMailgun, type MailgunEvent } from '@herald/fake-providers';
import { startHarness, type Harness } from './harness';
import { postMailgun, sendThroughMailgun, untilEmailStatus } from './webhook-helpers';

describe('admin stats', () => {
  let h: Harness;
  let mailgun: FakeMailgun;
  let userId: string;

  beforeAll(async () => {
    mailgun = await FakeMailgun.start();
    h = await startHarness('notif-webhooks-stats', {
      settings: { mailgunWebhookSigningKey: mailgun.webhookSigningKey },
    });
    userId = (await h.registerUser()).userId;
  });
  afterAll(async () => {
    await h.close();
    await mailgun.close();
  });

  it('counts what the provider events said, for the period and channel', async () => {
    const start = new Date(Date.now() - 1000);
    // An admin the read model does not know (its role there would win over the token's).
    const admin = h.token('stats-admin', 'admin');
    // Five emails: their events, in the order Mailgun sends them.
    const plans: (MailgunEvent | 'bounce')[][] = [
      ['delivered', 'opened', 'clicked'],
      ['delivered', 'opened', 'opened'],
      ['delivered', 'complained'],
      ['bounce'],
      [],
    ];
    for (const [index, plan] of plans.entries()) {
      const created = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: {
          title: 'T',
          body: 'B',
          recipient: { email: `stats${index}@example.com` },
          channels: ['email'],
        },
      });
      const id = created.json().id as string;
      const message = await sendThroughMailgun(h, mailgun, id, `stats${index}@example.com`);
      await untilEmailStatus(h, id, 'sent');
      for (const step of plan) {
        const body =
          step === 'bounce'
            ? mailgun.webhookBody({ event: 'failed', severity: 'permanent', message })
            : mailgun.webhookBody({ event: step, message });
        expect((await postMailgun(h, body)).statusCode).toBe(200);
      }
    }
    // An SMS-only notification is not in the email figures.
    await h.request('POST', '/api/v1/notifications', {
      token: admin,
      body: { title: 'T', body: 'B', recipient: { phone: '+14155550100' }, channels: ['sms'] },
    });

    const query = `from=${start.toISOString()}&to=${new Date(Date.now() + 1000).toISOString()}&channel=email`;
    const response = await h.request('GET', `/api/v1/admin/stats?${query}`, { token: admin });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      channel: 'email',
      counts: { total: 5, sent: 5, delivered: 3, failed: 1, opened: 2, clicked: 1, complained: 1 },
      rates: { delivered: 0.6, failed: 0.2, opened: 0.6667, clicked: 0.3333, complained: 0.3333 },
    });

    const before = `from=2000-01-01T00:00:00Z&to=${start.toISOString()}`;
    expect(
      (await h.request('GET', `/api/v1/admin/stats?${before}`, { token: admin })).json().counts.total,
    ).toBe(0);
    expect(
      (await h.request('GET', `/api/v1/admin/stats?${query}`, { token: h.token(userId) })).statusCode,
    ).toBe(403);
  });

  it('documents the webhook and admin routes in the OpenAPI document', async () => {
    const paths = Object.keys((await h.request('GET', '/docs/json')).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/webhooks/mailgun',
        '/api/v1/webhooks/twilio',
        '/api/v1/admin/suppressions/',
        '/api/v1/admin/suppressions/{address}',
        '/api/v1/admin/stats/',
      ]),
    );
  });
});
