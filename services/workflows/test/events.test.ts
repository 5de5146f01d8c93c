import { type WorkflowSendMessage } from '@herald/contracts';
import { startHarness, type Harness, type Json } from './harness';

/*
 * `cancel-on` with an application's own event key: `POST /workflows/events`
 * cancels the caller's runs armed with that key for that recipient (and
 * transaction), nothing pending goes out; other keys' runs are untouched.
 * Real broker and database, the clock moved by the test.
 */
describe('application events', () => {
  let h: Harness;
  let clock = Date.parse('2026-08-03T09:00:00.000Z');
  const now = () => new Date(clock);
  const hours = (n: number) => n * 3_600_000;
  let a: string;
  let b: string;
  let sends: string;
  const admin = () => h.token('root', 'admin');

  beforeAll(async () => {
    h = await startHarness('wf-app-events', { now });
    await h.announceTemplate('dunning-mail', ['email']);
    a = (await h.createApiKey(['notifications:send'])).key;
    b = (await h.createApiKey(['notifications:send'])).key;
    sends = await h.tapSends();
    const created = await h.request('POST', '/api/v1/workflows', {
      token: admin(),
      body: {
        key: 'dunning',
        steps: [
          { id: 'until-paid', type: 'cancel-on', event: 'payment.received' },
          { id: 'wait', type: 'delay', duration: '2h' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'dunning-mail' },
        ],
      },
    });
    expect(created.statusCode).toBe(201);
  });
  afterAll(() => h.close());

  async function trigger(token: string, recipient: Json, transactionId: string): Promise<string> {
    const response = await h.request('POST', '/api/v1/workflows/dunning/trigger', {
      token,
      body: { recipients: [recipient], transactionId, data: { invoice: transactionId } },
    });
    expect(response.statusCode).toBe(202);
    return response.json().runs[0].id as string;
  }

  const post = (token: string | undefined, body: Json) =>
    h.request('POST', '/api/v1/workflows/events', { ...(token ? { token } : {}), body });

  it('refuses a cancel-on naming a malformed event key, or an application key with a step (400 naming the step)', async () => {
    for (const [step, message] of [
      [{ id: 'stop', type: 'cancel-on', event: 'Payment Received!' }, 'application event key'],
      [{ id: 'stop', type: 'cancel-on', event: 'payment.received', step: 'mail' }, 'watches no step'],
    ] as const) {
      const response = await h.request('POST', '/api/v1/workflows', {
        token: admin(),
        body: {
          key: 'bad-cancel-on',
          steps: [{ id: 'mail', type: 'channel', channel: 'email', template: 'dunning-mail' }, step],
        },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { field: '/body/steps/1', message: expect.stringContaining(`step "stop": `) },
      ]);
      expect(response.json().errors[0].message).toContain(message);
    }
  });

  it('refuses no auth (401), a normal user (403), unknown fields and malformed keys (400)', async () => {
    const body = { key: 'payment.received', recipient: { subscriberId: 'cus-1' } };
    expect((await post(undefined, body)).statusCode).toBe(401);
    expect((await post(h.token('someone'), body)).statusCode).toBe(403);
    expect((await post(a, { ...body, extra: 1 })).statusCode).toBe(400);
    expect((await post(a, { ...body, key: 'Not A Key' })).statusCode).toBe(400);
    expect((await post(a, { ...body, recipient: { email: 'x@example.org' } })).statusCode).toBe(400);
    expect((await post(a, { ...body, data: { blob: 'x'.repeat(9_000) } })).statusCode).toBe(400);
  });

  it("cancels only the caller's runs armed for that recipient and transaction; nothing pending goes out", async () => {
    const paid = await trigger(a, { subscriberId: 'cus-1' }, 'inv-1');
    const unpaid = await trigger(a, { subscriberId: 'cus-1' }, 'inv-2');
    const other = await trigger(a, { subscriberId: 'cus-2' }, 'inv-1');
    const othersKey = await trigger(b, { subscriberId: 'cus-1' }, 'inv-1');
    await h.advance();

    // another key's event reaches none of a's runs
    const foreign = await post(b, {
      key: 'payment.received',
      recipient: { subscriberId: 'cus-1' },
      transactionId: 'inv-1',
    });
    expect(foreign.statusCode).toBe(200);
    expect(foreign.json()).toEqual({ cancelled: [othersKey] });
    // a key no run is armed with: nothing
    expect((await post(a, { key: 'refund.issued', recipient: { subscriberId: 'cus-1' } })).json()).toEqual({
      cancelled: [],
    });

    const response = await post(a, {
      key: 'payment.received',
      recipient: { subscriberId: 'cus-1' },
      transactionId: 'inv-1',
      data: { amount: 42 },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ cancelled: [paid] });
    const detail: Json = await h.run(paid);
    expect(detail.status).toBe('cancelled');
    expect(detail.cancelledBy).toEqual({
      event: 'payment.received',
      data: { amount: 42 },
      at: now().toISOString(),
    });
    expect(detail.steps.at(-1)).toMatchObject({ stepId: 'until-paid', outcome: 'cancelled' });

    clock += hours(2);
    await h.advance();
    await h.advance();
    const mailed = (await h.drain<WorkflowSendMessage>(sends)).map((message) => message.payload.runId);
    expect(mailed.sort()).toEqual([unpaid, other].sort());
    for (const [id, status] of [
      [paid, 'cancelled'],
      [unpaid, 'completed'],
      [other, 'completed'],
      [othersKey, 'cancelled'],
    ]) {
      expect([id, (await h.run(id!)).status]).toEqual([id, status]);
    }
  });

  it('lets an admin cancel anyone’s armed runs for a user recipient, without a transaction', async () => {
    const first = await trigger(a, { userId: 'u-9' }, 'inv-7');
    const second = await trigger(b, { userId: 'u-9' }, 'inv-8');
    await h.advance();
    const response = await post(admin(), { key: 'payment.received', recipient: { userId: 'u-9' } });
    expect(response.statusCode).toBe(200);
    expect(response.json().cancelled.sort()).toEqual([first, second].sort());
  });
});

describe('application events: the per-key rate limit', () => {
  let h: Harness;
  let clock = Date.parse('2026-08-04T09:00:00.000Z');
  const now = () => new Date(clock);
  beforeAll(async () => {
    h = await startHarness('wf-app-events-limit', { now, settings: { apiKeyRateLimitPerSecond: 2 } });
  });
  afterAll(() => h.close());

  it('shares the trigger’s per-key limit: past it 429 with Retry-After, again once the clock moves', async () => {
    const { key } = await h.createApiKey(['notifications:send']);
    const post = () =>
      h.request('POST', '/api/v1/workflows/events', {
        token: key,
        body: { key: 'payment.received', recipient: { subscriberId: 'cus-1' } },
      });
    expect((await post()).statusCode).toBe(200);
    // a trigger spends from the same bucket (404: no such workflow, but counted)
    const trigger = await h.request('POST', '/api/v1/workflows/none/trigger', {
      token: key,
      body: { recipients: [{ subscriberId: 'cus-1' }] },
    });
    expect(trigger.statusCode).toBe(404);
    const limited = await post();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    clock += 1_000;
    expect((await post()).statusCode).toBe(200);
  });
});
