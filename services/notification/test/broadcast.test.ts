import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

describe('broadcasts', () => {
  let h: Harness;
  const admin = () => h.token('root', 'admin');
  const users: { userId: string; role: string; disabled?: boolean; phone?: string }[] = [];

  beforeAll(async () => {
    // Batches of 2 make the fan-out take several checkpointed rounds.
    h = await startHarness('notif-broadcast', { settings: { broadcastBatchSize: 2 } });
    await h.createCategories('ops');
    for (let index = 0; index < 5; index += 1) users.push(await h.registerUser());
    users.push(await h.registerUser({ phone: '+14155550142' }));
    users.push(await h.registerUser({ role: 'admin' }), await h.registerUser({ role: 'admin' }));
    users.push(await h.registerUser({ disabled: true }));
  });
  afterAll(() => h.close());

  const broadcast = (body: Json, token = admin()) =>
    h.request('POST', '/api/v1/notifications/broadcast', { token, body });
  const progress = (id: string) =>
    h.request('GET', `/api/v1/notifications/broadcast/${id}`, { token: admin() });
  const completed = (id: string) =>
    waitFor(
      async () => {
        const body = (await progress(id)).json();
        return body.state === 'completed' ? body : undefined;
      },
      { description: `broadcast ${id} completed` },
    );

  it('fans out to every active user, once each, with progress to follow', async () => {
    const response = await broadcast({
      audience: { all: true },
      channels: ['in_app', 'sms'],
      title: 'Maintenance tonight',
      body: 'From 22:00 UTC',
      category: 'ops',
    });
    expect(response.statusCode).toBe(202);
    const accepted = response.json();
    expect(accepted).toMatchObject({ id: expect.any(String), recipientCount: 8, state: 'running' });

    expect(await completed(accepted.id)).toMatchObject({ recipientCount: 8, processedCount: 8 });
    const records = await h.models.notifications.find({ broadcastId: accepted.id }).lean();
    const active = users.filter((user) => !user.disabled).map((user) => user.userId);
    expect(records.map((record) => record.userId).sort()).toEqual([...active].sort());
    // SMS only where there is a phone number.
    // Each batch is published before its checkpoint moves, so once completed every job is queued.
    const smsJobs = await h.drain(h.names.queues.work.sms);
    expect(smsJobs.map((job) => job.payload.recipient.phone)).toEqual(['+14155550142']);
    expect(records.filter((record) => record.channels.includes('sms'))).toHaveLength(1);

    const inbox = await h.request('GET', '/api/v1/notifications', { token: h.token(active[0]!) });
    expect(inbox.json().items[0]).toMatchObject({ title: 'Maintenance tonight', category: 'ops' });
  });

  it('targets a role', async () => {
    const response = await broadcast({
      audience: { role: 'admin' },
      channels: ['in_app'],
      title: 'Admins',
      body: 'Hi',
    });
    expect(response.json().recipientCount).toBe(2);
    const done = await completed(response.json().id);
    const records = await h.models.notifications.find({ broadcastId: done.id }).lean();
    const admins = users.filter((user) => user.role === 'admin').map((user) => user.userId);
    expect(records.map((record) => record.userId).sort()).toEqual([...admins].sort());
  });

  it('resumes an interrupted fan-out from its checkpoint without notifying anyone twice', async () => {
    const response = await broadcast({
      audience: { all: true },
      channels: ['in_app'],
      title: 'Again',
      body: 'Hi',
    });
    const id = response.json().id as string;
    await completed(id);
    // As if the instance had died mid-way: still running, lease lapsed, checkpoint behind what was done.
    await h.models.broadcasts.updateOne(
      { _id: id },
      {
        $set: {
          state: 'running',
          processedCount: 0,
          lastUserId: null,
          leaseUntil: new Date(Date.now() - 1_000),
        },
      },
    );
    expect(await completed(id)).toMatchObject({ recipientCount: 8, processedCount: 8 });
    expect(await h.models.notifications.countDocuments({ broadcastId: id })).toBe(8);
  });

  it('is for admins only, and validates its input', async () => {
    const forbidden = await broadcast(
      { audience: { all: true }, channels: ['in_app'], title: 'x', body: 'y' },
      h.token('someone'),
    );
    expect(forbidden.statusCode).toBe(403);
    const progressForbidden = await h.request(
      'GET',
      '/api/v1/notifications/broadcast/0123456789abcdef01234567',
      {
        token: h.token('someone'),
      },
    );
    expect(progressForbidden.statusCode).toBe(403);

    const invalid = await broadcast({ audience: { role: 'owner' }, channels: [], title: '' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().errors.map((error: Json) => error.field)).toEqual(
      expect.arrayContaining(['/body/channels', '/body/title', '/body/body']),
    );
    expect((await progress('0123456789abcdef01234567')).statusCode).toBe(404);
  });

  it("respects each recipient's preferences: a muted channel ends skipped, with no job", async () => {
    const quiet = await h.registerUser({ phone: '+14155550199' });
    const muted = await h.request('PUT', '/api/v1/preferences', {
      token: h.token(quiet.userId),
      body: { channels: { sms: false }, categories: {} },
    });
    expect(muted.statusCode).toBe(200);
    await h.drain(h.names.queues.work.sms);
    const response = await broadcast({
      audience: { all: true },
      channels: ['in_app', 'sms'],
      title: 'Outage',
      body: 'Back soon',
    });
    const { id } = response.json();
    await completed(id);
    const record = await h.models.notifications
      .findOne({ broadcastId: id, userId: quiet.userId })
      .lean<Json>();
    expect(record.deliveries.in_app.status).toBe('delivered');
    expect(record.deliveries.sms.status).toBe('skipped');
    const phones = (await h.drain(h.names.queues.work.sms)).map((job) => job.payload.recipient.phone);
    expect(phones).toContain('+14155550142');
    expect(phones).not.toContain('+14155550199');
  });
});
