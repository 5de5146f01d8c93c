import { MAX_MEMBERS_PER_EVENT } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import {
  adminAccessToken,
  createApiKey,
  startHarness,
  TEST_ADMIN,
  type AuthHarness,
  type Response,
} from './harness';

interface MembersChanged {
  key: string;
  revision: number;
  added: string[];
  removed: string[];
}

describe('topics', () => {
  let auth: AuthHarness;
  let adminToken: string;
  let writer: string;

  beforeAll(async () => {
    auth = await startHarness('auth-topics', {
      env: { ...TEST_ADMIN, API_KEY_RATE_LIMIT_PER_SECOND: '1000' },
    });
    adminToken = await adminAccessToken(auth);
    writer = (await createApiKey(auth, adminToken, ['subscribers:write'])).key;
  });
  afterAll(() => auth.close());

  const call = (method: string, url: string, body?: unknown, key = writer): Promise<Response> =>
    auth.request(method, url, body, key);
  const putSubscriber = (id: string, email = `${id}@example.com`) =>
    call('PUT', `/api/v1/subscribers/${id}`, { email });
  const membershipEvents = (key: string) =>
    auth.events
      .ofType('topic.members_changed')
      .map((message) => message.payload as MembersChanged)
      .filter((payload) => payload.key === key);

  it('creates, renames, lists and deletes a topic, publishing each change with its revision', async () => {
    const created = await call('POST', '/api/v1/topics', { key: 'weekly', name: 'Weekly digest' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      key: 'weekly',
      name: 'Weekly digest',
      memberCount: 0,
      revision: 1,
    });
    expect((await call('POST', '/api/v1/topics', { key: 'weekly', name: 'again' })).json()).toMatchObject({
      status: 409,
      code: 'topic_exists',
    });

    const renamed = await call('PATCH', '/api/v1/topics/weekly', { name: 'The weekly' });
    expect(renamed.json()).toMatchObject({ name: 'The weekly', revision: 2 });
    const listed = await call('GET', '/api/v1/topics?limit=10');
    expect(listed.json().items.map((topic: { key: string }) => topic.key)).toContain('weekly');

    expect((await call('DELETE', '/api/v1/topics/weekly')).statusCode).toBe(204);
    expect((await call('GET', '/api/v1/topics/weekly')).json()).toMatchObject({
      status: 404,
      code: 'topic_not_found',
    });
    const events = await waitFor(() => {
      const found = auth.events.messages.filter(
        (message) =>
          message.type.startsWith('topic.') && (message.payload as { key: string }).key === 'weekly',
      );
      return found.length === 3 ? found : undefined;
    });
    expect(events.map((event) => [event.type, (event.payload as { revision: number }).revision])).toEqual([
      ['topic.upserted', 1],
      ['topic.upserted', 2],
      ['topic.deleted', 3],
    ]);
    // created again: the revision goes on, so read models order it after the deletion
    expect((await call('POST', '/api/v1/topics', { key: 'weekly', name: 'Back' })).json()).toMatchObject({
      revision: 4,
    });
  });

  it('adds members by external id, names unknown ids, lists members with a cursor, and removes them', async () => {
    await call('POST', '/api/v1/topics', { key: 'members', name: 'Members' });
    for (const id of ['m1', 'm2', 'm3']) expect((await putSubscriber(id)).statusCode).toBe(201);

    const added = await call('POST', '/api/v1/topics/members/members', {
      subscriberIds: ['m1', 'm2', 'm3', 'ghost', 'm1'],
    });
    expect(added.json()).toEqual({ added: 3, alreadyMembers: 0, unknown: ['ghost'] });
    const again = await call('POST', '/api/v1/topics/members/members', { subscriberIds: ['m2'] });
    expect(again.json()).toEqual({ added: 0, alreadyMembers: 1, unknown: [] });

    const first = await call('GET', '/api/v1/topics/members/members?limit=2');
    expect(first.json().items.map((member: { externalId: string }) => member.externalId)).toEqual([
      'm1',
      'm2',
    ]);
    const second = await call(
      'GET',
      `/api/v1/topics/members/members?limit=2&cursor=${encodeURIComponent(first.json().nextCursor)}`,
    );
    expect(second.json()).toMatchObject({ items: [{ externalId: 'm3' }], nextCursor: null });
    expect((await call('GET', '/api/v1/topics/members')).json()).toMatchObject({ memberCount: 3 });

    const topics = await call('GET', '/api/v1/subscribers/m1/topics');
    expect(topics.json().items).toEqual([expect.objectContaining({ key: 'members', name: 'Members' })]);

    const removed = await call('POST', '/api/v1/topics/members/members/remove', {
      subscriberIds: ['m1', 'm9'],
    });
    expect(removed.json()).toEqual({ removed: 1, notMembers: ['m9'] });
    expect((await call('GET', '/api/v1/subscribers/m1/topics')).json().items).toEqual([]);

    // a deleted subscriber leaves its topics: created again, it is in none
    expect((await call('DELETE', '/api/v1/subscribers/m3')).statusCode).toBe(204);
    expect((await putSubscriber('m3')).statusCode).toBe(201);
    expect((await call('GET', '/api/v1/subscribers/m3/topics')).json().items).toEqual([]);

    const events = await waitFor(() => {
      const found = membershipEvents('members');
      return found.length === 4 ? found : undefined;
    });
    expect(events.map(({ added: a, removed: r, revision }) => ({ a, r, revision }))).toEqual([
      { a: ['m1', 'm2', 'm3'], r: [], revision: 2 },
      { a: ['m2'], r: [], revision: 3 },
      { a: [], r: ['m1', 'm9'], revision: 4 },
      { a: [], r: ['m3'], revision: 5 },
    ]);
  });

  it(`splits a large change into events of at most ${MAX_MEMBERS_PER_EVENT} members`, async () => {
    await call('POST', '/api/v1/topics', { key: 'big', name: 'Big' });
    const ids = Array.from({ length: 2_500 }, (_, index) => `big-${String(index).padStart(5, '0')}`);
    const csv = ['externalId,email', ...ids.map((id) => `${id},${id}@example.com`)].join('\n');
    const imported = await auth.request('POST', '/api/v1/topics/big/import', undefined, writer, {});
    expect(imported.statusCode).toBe(415); // a CSV needs its content type
    const report = await auth.app.inject({
      method: 'POST',
      url: '/api/v1/topics/big/import',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(report.json()).toMatchObject({ rows: 2_500, created: 2_500, rejectedCount: 0 });

    const added = await call('POST', '/api/v1/topics/big/members', { subscriberIds: ids });
    expect(added.json()).toEqual({ added: 0, alreadyMembers: 2_500, unknown: [] });
    const events = await waitFor(() => {
      const found = membershipEvents('big').filter((event) => event.revision === 7);
      return found.length === 3 ? found : undefined;
    });
    expect(events.map((event) => event.added.length)).toEqual([1_000, 1_000, 500]);
    expect(new Set(events.flatMap((event) => event.added))).toEqual(new Set(ids));
  });

  it('refuses callers without the scope, inbox-less people and unknown topics', async () => {
    const sender = (await createApiKey(auth, adminToken, ['notifications:send'])).key;
    const person = await auth.signUp('someone@example.com');
    expect((await auth.request('GET', '/api/v1/topics')).statusCode).toBe(401);
    expect((await call('GET', '/api/v1/topics', undefined, sender)).json()).toMatchObject({ status: 403 });
    expect(
      (await call('POST', '/api/v1/topics', { key: 'x', name: 'x' }, person.accessToken)).statusCode,
    ).toBe(403);
    // an admin user may
    expect((await call('GET', '/api/v1/topics', undefined, adminToken)).statusCode).toBe(200);
    expect(
      (await call('POST', '/api/v1/topics/nope/members', { subscriberIds: ['m2'] })).json(),
    ).toMatchObject({
      status: 404,
      code: 'topic_not_found',
    });
    const tooMany = Array.from({ length: 10_001 }, (_, index) => `id-${index}`);
    const refused = await call('POST', '/api/v1/topics/members/members', { subscriberIds: tooMany });
    expect(refused.statusCode).toBe(400);
    expect((await call('POST', '/api/v1/topics', { key: 'bad key!', name: 'x' })).statusCode).toBe(400);
  });
});
