import { startHarness, type Harness, type Json } from './harness';

/*
 * A definition's plan ("previewable like templates"): validated as a save
 * is, then walked with sample data from a simulated start — each step, what
 * it would do and when — without sending or storing anything.
 */
describe('workflow preview', () => {
  let h: Harness;
  let sends: string;
  const admin = () => h.token('root', 'admin');
  const start = '2026-10-05T08:00:00.000Z';
  const preview = (body: Json, token = admin()) =>
    h.request('POST', '/api/v1/workflows/preview', { token, body });

  beforeAll(async () => {
    h = await startHarness('wf-preview');
    await h.announceTemplate('nudge', ['in_app', 'email', 'sms']);
    await h.announceTemplate('digest-mail', ['email']);
    sends = await h.tapSends();
  });
  afterAll(() => h.close());

  const escalation = [
    { id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' },
    { id: 'until-paid', type: 'cancel-on', event: 'payment.received' },
    { id: 'wait', type: 'delay', duration: '30m' },
    { id: 'unread', type: 'branch', if: { event: 'read', step: 'inbox' }, then: 'end' },
    { id: 'vip', type: 'branch', if: { data: 'tier', equals: 'gold' }, then: 'text' },
    { id: 'mail', type: 'channel', channel: 'email', template: 'nudge', next: 'end' },
    { id: 'text', type: 'channel', channel: 'sms', template: 'nudge' },
  ];

  it('walks an unsaved definition with the sample data: each step, what it does and when', async () => {
    const response = await preview({ steps: escalation, data: { tier: 'gold' }, startAt: start });
    expect(response.statusCode).toBe(200);
    const plan = response.json();
    expect(plan.path).toEqual(['inbox', 'until-paid', 'wait', 'unread', 'vip', 'text']);
    expect(plan.endsAt).toBe('2026-10-05T08:30:00.000Z');
    const byId = Object.fromEntries(plan.steps.map((step: Json) => [step.id, step]));
    expect(plan.steps.map((step: Json) => step.id)).toEqual(escalation.map((step) => step.id));
    expect(byId.inbox).toMatchObject({
      reached: true,
      at: start,
      channel: 'in_app',
      template: 'nudge',
      goesTo: 'until-paid',
    });
    expect(byId['until-paid'].does).toContain('payment.received');
    expect(byId.wait).toMatchObject({ at: start, until: '2026-10-05T08:30:00.000Z', goesTo: 'unread' });
    // an engagement cannot be known: assumed not happened, said so
    expect(byId.unread).toMatchObject({ holds: null, goesTo: 'vip', at: '2026-10-05T08:30:00.000Z' });
    expect(byId.unread.does).toContain('assumed not read');
    expect(byId.vip).toMatchObject({ holds: true, goesTo: 'text' });
    expect(byId.text).toMatchObject({
      reached: true,
      channel: 'sms',
      at: '2026-10-05T08:30:00.000Z',
      goesTo: 'end',
    });
    expect(byId.mail).toEqual({
      id: 'mail',
      type: 'channel',
      reached: false,
      does: 'not reached with this data',
    });

    // other data, the other way
    const plain = (await preview({ steps: escalation, data: { tier: 'basic' }, startAt: start })).json();
    expect(plain.path).toEqual(['inbox', 'until-paid', 'wait', 'unread', 'vip', 'mail']);
  });

  it('resolves a delay until a time in the data, a digest window end, a throttle limit', async () => {
    const plan = (
      await preview({
        steps: [
          { id: 'limit', type: 'throttle', limit: 3, window: '1h', key: 'account' },
          { id: 'gather', type: 'digest', window: '1h', key: 'postId' },
          { id: 'later', type: 'delay', until: 'sendAt' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'digest-mail' },
        ],
        data: { account: 'acme', postId: 'p-7', sendAt: '2026-10-05T12:00:00.000Z' },
        startAt: start,
      })
    ).json();
    const byId = Object.fromEntries(plan.steps.map((step: Json) => [step.id, step]));
    expect(byId.limit).toMatchObject({ at: start, limit: 3, window: '1h', keyValue: 'acme' });
    expect(byId.gather).toMatchObject({
      at: start,
      until: '2026-10-05T09:00:00.000Z',
      keyValue: 'p-7',
      window: '1h',
    });
    expect(byId.later).toMatchObject({ at: '2026-10-05T09:00:00.000Z', until: '2026-10-05T12:00:00.000Z' });
    expect(byId.mail).toMatchObject({
      at: '2026-10-05T12:00:00.000Z',
      channel: 'email',
      template: 'digest-mail',
    });
    expect(plan.endsAt).toBe('2026-10-05T12:00:00.000Z');
  });

  it('answers a bad definition with the same 400 naming the step as create, and stores and sends nothing', async () => {
    const response = await preview({
      steps: [
        { id: 'gather', type: 'digest', key: 'postId' },
        { id: 'mail', type: 'channel', channel: 'email', template: 'nope' },
      ],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((error: Json) => `${error.field} ${error.message}`)).toEqual([
      '/body/steps/0 step "gather": a digest needs a window (a duration such as 1h)',
      '/body/steps/1 step "mail": template "nope" does not exist',
    ]);
    expect((await preview({ steps: escalation, extra: true })).statusCode).toBe(400);
    expect((await preview({ steps: escalation, startAt: 'tomorrow' })).statusCode).toBe(400);
    expect(await h.models.workflows.countDocuments()).toBe(0);
    expect(await h.models.runs.countDocuments()).toBe(0);
    expect(await h.drain(sends)).toEqual([]);
  });

  it('is for admins: 401 without a token, 403 for a user or a sending key', async () => {
    expect(
      (await h.request('POST', '/api/v1/workflows/preview', { body: { steps: escalation } })).statusCode,
    ).toBe(401);
    expect((await preview({ steps: escalation }, h.token('someone'))).statusCode).toBe(403);
    const sender = await h.createApiKey(['notifications:send']);
    expect((await preview({ steps: escalation }, sender.key)).statusCode).toBe(403);
  });

  it('plans a saved version, the current one by default; 404 for an unknown key or version', async () => {
    const created = await h.request('POST', '/api/v1/workflows', {
      token: admin(),
      body: { key: 'saved', steps: [{ id: 'mail', type: 'channel', channel: 'email', template: 'nudge' }] },
    });
    expect(created.statusCode).toBe(201);
    await h.request('PUT', '/api/v1/workflows/saved', {
      token: admin(),
      body: {
        steps: [
          { id: 'wait', type: 'delay', duration: '2h' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
        ],
      },
    });
    const savedPreview = (body: Json, key = 'saved') =>
      h.request('POST', `/api/v1/workflows/${key}/preview`, { token: admin(), body });
    const current = (await savedPreview({ startAt: start })).json();
    expect(current).toMatchObject({
      key: 'saved',
      version: 2,
      path: ['wait', 'mail'],
      endsAt: '2026-10-05T10:00:00.000Z',
    });
    const first = (await savedPreview({ version: 1, startAt: start })).json();
    expect(first).toMatchObject({ version: 1, path: ['mail'], endsAt: start });
    expect((await savedPreview({ version: 9 })).statusCode).toBe(404);
    expect((await savedPreview({}, 'nothing-here')).statusCode).toBe(404);
    expect(await h.models.runs.countDocuments()).toBe(0);
  });
});
