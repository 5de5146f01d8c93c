import { waitFor } from '@herald/test-support';
import { startHarness, type Harness } from './harness';

describe('Idempotency-Key on POST /api/v1/notifications', () => {
  let h: Harness;
  let clock = Date.now();
  beforeAll(async () => {
    h = await startHarness('notif-idem', { now: () => new Date(clock) });
  });
  afterAll(() => h.close());

  let userId: string;
  beforeAll(async () => {
    userId = (await h.registerUser()).userId;
  });

  const body = () => ({
    title: 'Invoice',
    body: 'Due soon',
    recipient: { userId },
    channels: ['in_app', 'email'],
  });
  const post = (key: string, payload: object = body(), sender = userId) =>
    h.request('POST', '/api/v1/notifications', {
      token: h.token(sender),
      body: payload,
      headers: { 'idempotency-key': key },
    });
  const count = () => h.models.notifications.countDocuments({ userId });

  it('answers a repeated key with the first answer and creates one notification', async () => {
    const before = await count();
    const first = await post('order-1');
    expect(first.statusCode).toBe(202);
    // Reordered keys are the same body.
    const { title, ...rest } = body();
    const again = await post('order-1', { ...rest, title });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    expect(await count()).toBe(before + 1);
    // And one email job only.
    await waitFor(() => h.confirmed(first.json().id), { description: 'its messages confirmed' });
    expect(await h.drain(h.names.queues.work.email)).toHaveLength(1);
  });

  it('creates one notification for concurrent requests with the same key', async () => {
    const before = await count();
    const responses = await Promise.all([post('burst'), post('burst'), post('burst')]);
    expect(responses.map((response) => response.statusCode)).toEqual([202, 202, 202]);
    expect(new Set(responses.map((response) => response.json().id)).size).toBe(1);
    expect(await count()).toBe(before + 1);
  });

  it('refuses the same key with a different body', async () => {
    await post('order-2');
    const changed = await post('order-2', { ...body(), title: 'Another invoice' });
    expect(changed.statusCode).toBe(422);
    expect(changed.json().code).toBe('idempotency_key_reused');
  });

  it('scopes keys per user', async () => {
    const other = (await h.registerUser()).userId;
    const mine = await post('shared-key');
    const theirs = await post('shared-key', { ...body(), recipient: { userId: other } }, other);
    expect(theirs.statusCode).toBe(202);
    expect(theirs.json().id).not.toBe(mine.json().id);
  });

  it('treats a key older than 24 hours as new', async () => {
    const first = await post('daily');
    clock += 24 * 3_600_000 + 1_000;
    const later = await post('daily');
    expect(later.statusCode).toBe(202);
    expect(later.json().id).not.toBe(first.json().id);
    // Within the new window the new answer is the one repeated.
    expect((await post('daily')).json().id).toBe(later.json().id);
  });

  it('does not record a key for a rejected request', async () => {
    const rejected = await post('bad', { ...body(), channels: ['carrier-pigeon'] });
    expect(rejected.statusCode).toBe(400);
    expect(await h.models.idempotencyKeys.exists({ userId, key: 'bad' })).toBeNull();
  });
});
