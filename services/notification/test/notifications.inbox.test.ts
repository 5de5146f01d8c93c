import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

describe('the inbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('notif-inbox');
    await h.createCategories('billing', 'security');
  });
  afterAll(() => h.close());

  let sequence = 0;
  async function notify(userId: string, overrides: Json = {}): Promise<string> {
    sequence += 1;
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(userId),
      body: {
        title: `Note ${sequence}`,
        body: 'Hello',
        recipient: { userId },
        channels: ['in_app'],
        ...overrides,
      },
    });
    expect(response.statusCode).toBe(202);
    return response.json().id as string;
  }

  async function inbox(userId: string, query = ''): Promise<Json> {
    const response = await h.request('GET', `/api/v1/notifications${query}`, { token: h.token(userId) });
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  /** createdAt has millisecond resolution: what must come strictly after an instant waits for the clock to pass it. */
  const pastMillisecond = (instant: string) =>
    waitFor(() => Date.now() > Date.parse(instant), {
      description: `the clock past ${instant}`,
      intervalMs: 1,
    });

  const unread = async (userId: string) =>
    (await h.request('GET', '/api/v1/notifications/unread-count', { token: h.token(userId) })).json()
      .unreadCount;

  it('lists the caller’s notifications newest first, and only theirs', async () => {
    const first = await notify('alice');
    const second = await notify('alice');
    await notify('bob');
    const page = await inbox('alice');
    expect(page.items.map((item: Json) => item.id)).toEqual([second, first]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toMatchObject({
      read: false,
      archived: false,
      channels: ['in_app'],
      priority: 'normal',
    });
  });

  it('returns every item exactly once while new items arrive between pages', async () => {
    const existing: string[] = [];
    for (let index = 0; index < 23; index += 1) existing.push(await notify('pager'));
    const seen: string[] = [];
    const arrivedMeanwhile: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Json = await inbox(
        'pager',
        `?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...page.items.map((item: Json) => item.id));
      cursor = page.nextCursor;
      pages += 1;
      arrivedMeanwhile.push(await notify('pager'), await notify('pager'));
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual([...existing].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.some((id) => arrivedMeanwhile.includes(id))).toBe(false);
  });

  it('filters by read state, channel, category, status and time', async () => {
    const admin = h.token('admin', 'admin');
    const user = await h.registerUser();
    const send = async (body: Json) => {
      const response = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: { title: 'T', body: 'B', recipient: { userId: user.userId }, ...body },
      });
      return response.json().id as string;
    };
    const billing = await send({ channels: ['in_app'], category: 'billing' });
    const emailed = await send({ channels: ['email'] });
    const since = new Date().toISOString();
    await pastMillisecond(since);
    const later = await send({ channels: ['in_app'], category: 'billing' });
    await h.request('PATCH', `/api/v1/notifications/${later}`, {
      token: h.token(user.userId),
      body: { read: true },
    });

    const ids = async (query: string) => (await inbox(user.userId, query)).items.map((item: Json) => item.id);
    expect(await ids('?channel=email')).toEqual([emailed]);
    expect(await ids('?category=billing')).toEqual([later, billing]);
    expect(await ids('?read=false')).toEqual([emailed, billing]);
    expect(await ids('?read=true')).toEqual([later]);
    expect(await ids('?status=queued')).toEqual([emailed]);
    expect(await ids(`?since=${encodeURIComponent(since)}`)).toEqual([later]);
  });

  it('treats since as exclusive: polling with the newest createdAt returns only what came after it', async () => {
    const ids = async (since: string) =>
      (await inbox('poller', `?since=${encodeURIComponent(since)}`)).items.map((item: Json) => item.id);
    await notify('poller');
    const newestId = await notify('poller');
    const newest = (await inbox('poller')).items[0];
    expect(newest.id).toBe(newestId);

    expect(await ids(newest.createdAt)).toEqual([]);

    await pastMillisecond(newest.createdAt);
    const later = await notify('poller');
    expect(await ids(newest.createdAt)).toEqual([later]);
    const latest = (await inbox('poller')).items[0].createdAt;
    expect(await ids(latest)).toEqual([]);
  });

  it('rejects bad query parameters', async () => {
    for (const query of ['?limit=101', '?limit=0', '?status=lost', '?cursor=garbage', '?since=yesterday']) {
      const response = await h.request('GET', `/api/v1/notifications${query}`, { token: h.token('alice') });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].field).toMatch(/^\/query/);
    }
  });

  it('shows the full record to its recipient and to admins, and 404 to anyone else', async () => {
    const id = await notify('carol', { category: 'security', metadata: { ip: '10.0.0.1' } });
    const own = await h.request('GET', `/api/v1/notifications/${id}`, { token: h.token('carol') });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({
      id,
      userId: 'carol',
      senderId: 'carol',
      metadata: { ip: '10.0.0.1' },
      deliveries: { in_app: { status: 'delivered' } },
      history: [
        { channel: 'in_app', status: 'queued', source: 'api' },
        { channel: 'in_app', status: 'delivered', source: 'api' },
      ],
    });
    const status = await h.request('GET', `/api/v1/notifications/${id}/status`, { token: h.token('carol') });
    expect(status.json()).toEqual({
      id,
      channels: { in_app: { status: 'delivered', updatedAt: expect.any(String) } },
    });

    for (const url of [`/api/v1/notifications/${id}`, `/api/v1/notifications/${id}/status`]) {
      const stranger = await h.request('GET', url, { token: h.token('dave') });
      expect(stranger.statusCode).toBe(404);
      expect(stranger.json().code).toBe('notification_not_found');
      expect((await h.request('GET', url, { token: h.token('root', 'admin') })).statusCode).toBe(200);
    }
    const patch = await h.request('PATCH', `/api/v1/notifications/${id}`, {
      token: h.token('dave'),
      body: { read: true },
    });
    expect(patch.statusCode).toBe(404);
    const removal = await h.request('DELETE', `/api/v1/notifications/${id}`, { token: h.token('dave') });
    expect(removal.statusCode).toBe(404);
    const malformed = await h.request('GET', '/api/v1/notifications/not-an-id', { token: h.token('carol') });
    expect(malformed.statusCode).toBe(400);
  });

  it('keeps the unread count, read state and events consistent', async () => {
    const updated = await h.tapEvents('notification.updated');
    const ids = [await notify('erin'), await notify('erin'), await notify('erin')];
    expect(await unread('erin')).toBe(3);

    const read = await h.request('PATCH', `/api/v1/notifications/${ids[0]}`, {
      token: h.token('erin'),
      body: { read: true },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: ids[0], read: true, readAt: expect.any(String) });
    expect(await unread('erin')).toBe(2);
    const first = await waitFor(async () => (await h.drain(updated))[0]);
    expect(first.payload).toMatchObject({
      userId: 'erin',
      notificationId: ids[0],
      change: { kind: 'read', read: true },
      unreadCount: 2,
    });

    // Marking it read again changes nothing and tells nobody.
    await h.request('PATCH', `/api/v1/notifications/${ids[0]}`, {
      token: h.token('erin'),
      body: { read: true },
    });

    const all = await h.request('POST', '/api/v1/notifications/read-all', { token: h.token('erin') });
    expect(all.json()).toEqual({ updated: 2, unreadCount: 0 });
    expect(await unread('erin')).toBe(0);
    const events = await waitFor(async () => {
      const drained = await h.drain(updated);
      return drained.length >= 2 ? drained : undefined;
    });
    expect(events.map((event) => event.payload.notificationId).sort()).toEqual([ids[1], ids[2]].sort());
    expect(events.every((event) => event.payload.unreadCount === 0)).toBe(true);
    expect((await inbox('erin', '?read=false')).items).toEqual([]);

    const unreadAgain = await h.request('PATCH', `/api/v1/notifications/${ids[2]}`, {
      token: h.token('erin'),
      body: { read: false },
    });
    expect(unreadAgain.json().read).toBe(false);
    expect(await unread('erin')).toBe(1);
  });

  it('archives and deletes, keeping the deleted record for audit', async () => {
    const updated = await h.tapEvents('notification.updated');
    const archived = await notify('frank');
    const deleted = await notify('frank');
    const kept = await notify('frank');
    const token = h.token('frank');

    const archive = await h.request('PATCH', `/api/v1/notifications/${archived}`, {
      token,
      body: { archived: true },
    });
    expect(archive.json().archived).toBe(true);
    expect((await h.request('DELETE', `/api/v1/notifications/${deleted}`, { token })).statusCode).toBe(204);

    expect((await inbox('frank')).items.map((item: Json) => item.id)).toEqual([kept]);
    expect((await inbox('frank', '?archived=true')).items.map((item: Json) => item.id)).toEqual([archived]);
    expect(await unread('frank')).toBe(1);
    expect((await h.request('GET', `/api/v1/notifications/${deleted}`, { token })).statusCode).toBe(404);
    const audit = await h.request('GET', `/api/v1/notifications/${deleted}`, {
      token: h.token('root', 'admin'),
    });
    expect(audit.json()).toMatchObject({ id: deleted, deleted: true });

    const events = await waitFor(async () => {
      const drained = await h.drain(updated);
      return drained.length >= 2 ? drained : undefined;
    });
    expect(events.map((event) => event.payload.change.kind).sort()).toEqual(['archived', 'deleted']);
    expect(events.find((event) => event.payload.change.kind === 'deleted')!.payload.unreadCount).toBe(1);
  });

  it('rejects an empty or unknown update', async () => {
    const id = await notify('gina');
    for (const body of [{}, { starred: true }, { read: 'yes' }]) {
      const response = await h.request('PATCH', `/api/v1/notifications/${id}`, {
        token: h.token('gina'),
        body,
      });
      expect(response.statusCode).toBe(400);
    }
  });
});
