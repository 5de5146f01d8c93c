import { startHarness, type Harness, type Json } from './harness';

/*
 * Definitions (issue 18): admins save them, versioned; what is wrong with a
 * step is a 400 that names the step; triggering what does not exist is 404.
 */
describe('workflow definitions', () => {
  let h: Harness;
  const admin = () => h.token('root', 'admin');
  const create = (body: Json, token = admin()) => h.request('POST', '/api/v1/workflows', { token, body });
  beforeAll(async () => {
    h = await startHarness('wf-definitions');
    await h.announceTemplate('welcome', ['in_app', 'email']);
    await h.announceTemplate('sms-only', ['sms']);
    await h.announceTemplate('retired', ['email'], 2, true);
  });
  afterAll(() => h.close());

  const messagesOf = (response: { json(): Json }) =>
    response.json().errors.map((error: Json) => `${error.field} ${error.message}`);

  it('saves a definition as version 1, and a replacement as version 2', async () => {
    const created = await create({
      key: 'onboarding',
      name: 'Onboarding',
      steps: [
        { id: 'hello', type: 'channel', channel: 'in_app', template: 'welcome' },
        { id: 'wait', type: 'delay', duration: '1d' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'welcome' },
      ],
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: 'onboarding', version: 1, createdBy: 'root' });
    const again = await create({ key: 'onboarding', steps: [{ id: 'a', type: 'delay', duration: '1m' }] });
    expect(again.statusCode).toBe(409);

    const replaced = await h.request('PUT', '/api/v1/workflows/onboarding', {
      token: admin(),
      body: { steps: [{ id: 'hello', type: 'channel', channel: 'email', template: 'welcome' }] },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().version).toBe(2);
    const v1 = await h.request('GET', '/api/v1/workflows/onboarding/versions/1', { token: admin() });
    expect(v1.json().steps).toHaveLength(3);
    const list = await h.request('GET', '/api/v1/workflows', { token: admin() });
    expect(list.json().items.map((item: Json) => [item.key, item.version])).toEqual([['onboarding', 2]]);
  });

  it('lists the versions of a workflow newest first, a page at a time, with who saved each; admins only', async () => {
    const steps = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `w${i}`, type: 'delay', duration: '1m' }));
    expect((await create({ key: 'versioned', name: 'V', steps: steps(1) })).statusCode).toBe(201);
    const adminKey = await h.createApiKey(['admin']);
    for (const [n, token] of [
      [2, admin()],
      [3, adminKey.key],
      [4, admin()],
    ] as const) {
      const saved = await h.request('PUT', '/api/v1/workflows/versioned', {
        token,
        body: { steps: steps(n) },
      });
      expect(saved.statusCode).toBe(200);
    }
    const versions = (query = '', token = admin()) =>
      h.request('GET', `/api/v1/workflows/versioned/versions${query}`, { token });
    const first = await versions('?limit=3');
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((item: Json) => [item.version, item.stepCount, item.createdBy])).toEqual([
      [4, 4, 'root'],
      [3, 3, adminKey.snapshot.keyId],
      [2, 2, 'root'],
    ]);
    expect(first.json().items[0]).not.toHaveProperty('steps');
    expect(first.json().nextCursor).toBe('2');
    const second = await versions(`?limit=3&cursor=${first.json().nextCursor}`);
    expect(second.json()).toEqual({
      items: [expect.objectContaining({ key: 'versioned', version: 1, name: 'V', stepCount: 1 })],
      nextCursor: null,
    });

    // admins only; a workflow that is not there, or was deleted, is 404; a bad query 400
    expect((await h.request('GET', '/api/v1/workflows/versioned/versions')).statusCode).toBe(401);
    expect((await versions('', h.token('someone'))).statusCode).toBe(403);
    expect((await versions('', (await h.createApiKey(['notifications:send'])).key)).statusCode).toBe(403);
    expect(
      (await h.request('GET', '/api/v1/workflows/nothing-here/versions', { token: admin() })).statusCode,
    ).toBe(404);
    for (const query of ['?limit=0', '?limit=101', '?cursor=0', '?cursor=x', '?other=1']) {
      expect({ query, status: (await versions(query)).statusCode }).toEqual({ query, status: 400 });
    }
    expect((await h.request('DELETE', '/api/v1/workflows/versioned', { token: admin() })).statusCode).toBe(
      204,
    );
    expect((await versions()).statusCode).toBe(404);
  });

  it.each([
    [
      'an unknown step type',
      [{ id: 'nap', type: 'sleep', duration: '1m' }],
      '/body/steps/0 step "nap": unknown step type "sleep" (one of channel, delay, digest, throttle, branch, cancel-on)',
    ],
    [
      'a digest without a window',
      [
        { id: 'gather', type: 'digest', key: 'projectId' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'welcome' },
      ],
      '/body/steps/0 step "gather": a digest needs a window (a duration such as 1h)',
    ],
    [
      'a template that does not exist',
      [{ id: 'mail', type: 'channel', channel: 'email', template: 'nope' }],
      '/body/steps/0 step "mail": template "nope" does not exist',
    ],
    [
      'a deleted template',
      [{ id: 'mail', type: 'channel', channel: 'email', template: 'retired' }],
      '/body/steps/0 step "mail": template "retired" does not exist',
    ],
    [
      'a template without content for the channel',
      [{ id: 'mail', type: 'channel', channel: 'email', template: 'sms-only' }],
      '/body/steps/0 step "mail": template "sms-only" has no email content',
    ],
    [
      'a cycle',
      [
        { id: 'hello', type: 'channel', channel: 'in_app', template: 'welcome' },
        { id: 'wait', type: 'delay', duration: '1h' },
        { id: 'again', type: 'branch', if: { event: 'read', step: 'hello' }, then: 'end', else: 'wait' },
      ],
      '/body/steps/1 step "wait": leads back to itself: wait → again → wait (a run must always end)',
    ],
    [
      'a jump to nowhere',
      [{ id: 'wait', type: 'delay', duration: '1h', next: 'later' }],
      '/body/steps/0 step "wait": next must be the id of a step or "end", not "later"',
    ],
    [
      'a branch on a step that is not a channel step',
      [
        { id: 'wait', type: 'delay', duration: '1h' },
        { id: 'check', type: 'branch', if: { event: 'read', step: 'wait' } },
      ],
      '/body/steps/1 step "check": "wait" is not a channel step of this workflow',
    ],
  ])('refuses %s with 400 naming the step', async (_, steps, message) => {
    const response = await create({ key: 'broken', steps });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(messagesOf(response)).toContain(message);
    expect(await h.models.workflows.exists({ _id: 'broken' })).toBeNull();
  });

  it('lets only admins define: 401 without a token, 403 for a user or a sending key', async () => {
    const body = { key: 'x', steps: [{ id: 'a', type: 'delay', duration: '1m' }] };
    expect((await h.request('POST', '/api/v1/workflows', { body })).statusCode).toBe(401);
    expect((await create(body, h.token('someone'))).statusCode).toBe(403);
    const sender = await h.createApiKey(['notifications:send']);
    expect((await create(body, sender.key)).statusCode).toBe(403);
    const adminKey = await h.createApiKey(['admin']);
    expect((await create(body, adminKey.key)).statusCode).toBe(201);
  });

  it('answers 404 to a trigger of an unknown workflow, 403 to a user, 400 to a bad recipient list', async () => {
    const sender = await h.createApiKey(['notifications:send']);
    const trigger = (key: string, body: Json, token: string) =>
      h.request('POST', `/api/v1/workflows/${key}/trigger`, { token, body });
    const unknown = await trigger('nothing-here', { recipients: [{ userId: 'u1' }] }, sender.key);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('workflow_not_found');
    expect((await trigger('onboarding', { recipients: [{ userId: 'u1' }] }, h.token('u1'))).statusCode).toBe(
      403,
    );
    const tooMany = Array.from({ length: 1001 }, (_, index) => ({ userId: `u${index}` }));
    expect((await trigger('onboarding', { recipients: tooMany }, sender.key)).statusCode).toBe(400);
    expect((await trigger('onboarding', { recipients: [] }, sender.key)).statusCode).toBe(400);
  });
});
