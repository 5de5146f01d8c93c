import { type WorkflowSendMessage } from '@herald/contracts';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Deleting a definition: the key is gone for reads and triggers (404), runs
 * already started finish on the version they are pinned to (or, asked,
 * are cancelled), and the key can be created again, its versions numbered
 * on. Real broker and database, the clock moved by the test.
 */
describe('deleting a workflow', () => {
  let h: Harness;
  let clock = Date.parse('2026-09-01T09:00:00.000Z');
  const now = () => new Date(clock);
  const hours = (n: number) => n * 3_600_000;
  let key: string;
  let sends: string;
  const admin = () => h.token('root', 'admin');
  const steps = [
    { id: 'wait', type: 'delay', duration: '1h' },
    { id: 'mail', type: 'channel', channel: 'email', template: 'promo-mail' },
  ];

  beforeAll(async () => {
    h = await startHarness('wf-delete', { now });
    await h.announceTemplate('promo-mail', ['email', 'in_app']);
    key = (await h.createApiKey(['notifications:send'])).key;
    sends = await h.tapSends();
  });
  afterAll(() => h.close());

  const trigger = (workflow: string) =>
    h.request('POST', `/api/v1/workflows/${workflow}/trigger`, {
      token: key,
      body: { recipients: [{ subscriberId: 'reader' }] },
    });
  const sentBy = async () =>
    (await h.drain<WorkflowSendMessage>(sends)).map((message) => [
      message.payload.runId,
      message.payload.stepId,
    ]);

  it('refuses no token (401), a user or a sending key (403), an unknown key (404), an unknown option (400)', async () => {
    expect((await h.request('DELETE', '/api/v1/workflows/promo')).statusCode).toBe(401);
    expect((await h.request('DELETE', '/api/v1/workflows/promo', { token: h.token('u1') })).statusCode).toBe(
      403,
    );
    expect((await h.request('DELETE', '/api/v1/workflows/promo', { token: key })).statusCode).toBe(403);
    const unknown = await h.request('DELETE', '/api/v1/workflows/nothing-here', { token: admin() });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('workflow_not_found');
    expect(
      (await h.request('DELETE', '/api/v1/workflows/promo?force=1', { token: admin() })).statusCode,
    ).toBe(400);
  });

  it('makes the key 404 everywhere, lets runs in flight finish on their version, and the key be created again', async () => {
    expect(
      (await h.request('POST', '/api/v1/workflows', { token: admin(), body: { key: 'promo', steps } }))
        .statusCode,
    ).toBe(201);
    const replaced = await h.request('PUT', '/api/v1/workflows/promo', { token: admin(), body: { steps } });
    expect(replaced.json().version).toBe(2);
    const started = await trigger('promo');
    expect(started.statusCode).toBe(202);
    const [run] = started.json().runs as Json[];
    await h.advance();

    const deleted = await h.request('DELETE', '/api/v1/workflows/promo', { token: admin() });
    expect(deleted.statusCode).toBe(204);
    for (const [method, url] of [
      ['GET', '/api/v1/workflows/promo'],
      ['GET', '/api/v1/workflows/promo/versions/1'],
      ['DELETE', '/api/v1/workflows/promo'],
    ] as const) {
      expect([method, url, (await h.request(method, url, { token: admin() })).statusCode]).toEqual([
        method,
        url,
        404,
      ]);
    }
    expect(
      (await h.request('PUT', '/api/v1/workflows/promo', { token: admin(), body: { steps } })).statusCode,
    ).toBe(404);
    const refused = await trigger('promo');
    expect(refused.statusCode).toBe(404);
    expect(refused.json().code).toBe('workflow_not_found');
    const list = await h.request('GET', '/api/v1/workflows', { token: admin() });
    expect(list.json().items.map((item: Json) => item.key)).not.toContain('promo');

    // the run started before the delete finishes on version 2
    clock += hours(1);
    await h.advance();
    await h.advance();
    expect(await sentBy()).toEqual([[run.id, 'mail']]);
    expect(await h.run(run.id)).toMatchObject({ status: 'completed', workflowVersion: 2 });

    // created again: a new definition, versions numbered on so (key, version) names one definition
    const again = await h.request('POST', '/api/v1/workflows', {
      token: admin(),
      body: {
        key: 'promo',
        steps: [{ id: 'inbox', type: 'channel', channel: 'in_app', template: 'promo-mail' }],
      },
    });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ key: 'promo', version: 3 });
    expect((await h.request('GET', '/api/v1/workflows/promo', { token: admin() })).json().version).toBe(3);
    expect(
      (await h.request('GET', '/api/v1/workflows/promo/versions/2', { token: admin() })).json().steps,
    ).toEqual(steps);
    const next = await trigger('promo');
    expect(next.statusCode).toBe(202);
    await h.advance();
    expect(await sentBy()).toEqual([[next.json().runs[0].id, 'inbox']]);
    // a live key is still taken
    expect(
      (await h.request('POST', '/api/v1/workflows', { token: admin(), body: { key: 'promo', steps } }))
        .statusCode,
    ).toBe(409);
  });

  it('cancels the runs in flight when asked (cancelRuns=true): nothing pending goes out', async () => {
    expect(
      (await h.request('POST', '/api/v1/workflows', { token: admin(), body: { key: 'flash', steps } }))
        .statusCode,
    ).toBe(201);
    const [run] = (await trigger('flash')).json().runs as Json[];
    await h.advance();
    const deleted = await h.request('DELETE', '/api/v1/workflows/flash?cancelRuns=true', { token: admin() });
    expect(deleted.statusCode).toBe(204);
    clock += hours(1);
    await h.advance();
    expect(await sentBy()).toEqual([]);
    expect((await h.run(run.id)).status).toBe('cancelled');
  });
});
