import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

describe('categories and preferences', () => {
  let h: Harness;
  let admin: string;
  // the service's clock: it moves only when a test moves it (the preferences cache's TTL)
  let clock = new Date();
  beforeAll(async () => {
    h = await startHarness('preferences', { now: () => clock });
    admin = h.token('admin-1', 'admin');
    for (const category of [
      { key: 'marketing', name: 'Marketing', defaultChannels: ['email'] },
      { key: 'security', name: 'Security', critical: true },
    ]) {
      const created = await h.request('POST', '/api/v1/categories', { token: admin, body: category });
      expect(created.statusCode).toBe(201);
    }
  });
  afterAll(() => h.close());

  const text = { title: 'Hello', body: 'There' };

  async function send(token: string, body: Json) {
    return h.request('POST', '/api/v1/notifications', { token, body: { ...text, ...body } });
  }

  describe('categories', () => {
    it('are managed by admins: create, list, get, update, delete', async () => {
      const created = await h.request('POST', '/api/v1/categories', {
        token: admin,
        body: { key: 'digest.weekly', name: 'Weekly digest', description: 'Once a week' },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ key: 'digest.weekly', critical: false, defaultChannels: [] });

      const duplicate = await h.request('POST', '/api/v1/categories', {
        token: admin,
        body: { key: 'digest.weekly', name: 'Again' },
      });
      expect(duplicate.statusCode).toBe(409);

      const updated = await h.request('PATCH', '/api/v1/categories/digest.weekly', {
        token: admin,
        body: { critical: true, defaultChannels: ['email', 'in_app'] },
      });
      expect(updated.json()).toMatchObject({ critical: true, defaultChannels: ['email', 'in_app'] });
      expect(
        (await h.request('GET', '/api/v1/categories/digest.weekly', { token: admin })).json(),
      ).toMatchObject({
        name: 'Weekly digest',
        critical: true,
      });

      const keys = (await h.request('GET', '/api/v1/categories', { token: admin }))
        .json()
        .items.map((item: Json) => item.key);
      expect(keys).toEqual(expect.arrayContaining(['general', 'marketing', 'security', 'digest.weekly']));

      expect(
        (await h.request('DELETE', '/api/v1/categories/digest.weekly', { token: admin })).statusCode,
      ).toBe(204);
      expect((await h.request('GET', '/api/v1/categories/digest.weekly', { token: admin })).statusCode).toBe(
        404,
      );
      expect((await h.request('DELETE', '/api/v1/categories/general', { token: admin })).statusCode).toBe(
        409,
      );
    });

    it('are refused to users who are not admins and to keys without the admin scope', async () => {
      const user = await h.request('POST', '/api/v1/categories', {
        token: h.token('someone'),
        body: { key: 'x', name: 'X' },
      });
      expect(user.statusCode).toBe(403);
      const key = await h.createApiKey(['notifications:send']);
      expect((await h.request('GET', '/api/v1/categories', { token: key.key })).statusCode).toBe(403);
      const adminKey = await h.createApiKey(['admin']);
      expect((await h.request('GET', '/api/v1/categories', { token: adminKey.key })).statusCode).toBe(200);
    });

    it('refuse a key outside the pattern, naming the field', async () => {
      const response = await h.request('POST', '/api/v1/categories', {
        token: admin,
        body: { key: 'Marketing!', name: 'Bad' },
      });
      expect(response.statusCode).toBe(400);
      expect(JSON.stringify(response.json().errors)).toContain('/body/key');
    });
  });

  describe('at send', () => {
    it('files a notification without a category under general', async () => {
      const user = await h.registerUser();
      const response = await send(admin, { recipient: { userId: user.userId }, channels: ['in_app'] });
      expect(response.statusCode).toBe(202);
      expect((await h.stored(response.json().id)).category).toBe('general');
    });

    it('refuses a category no admin created, naming the field: single, batch and broadcast; nothing stored', async () => {
      const user = await h.registerUser();
      const before = await h.models.notifications.countDocuments();
      for (const body of [
        { recipient: { userId: user.userId }, channels: ['in_app', 'email'], category: 'app-defined' },
        { recipients: [{ userId: user.userId }], channels: ['in_app'], category: 'app-defined' },
      ]) {
        const response = await send(admin, body);
        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json()).toMatchObject({
          code: 'unknown_category',
          errors: [{ field: '/body/category' }],
        });
      }
      const broadcast = await h.request('POST', '/api/v1/notifications/broadcast', {
        token: admin,
        body: { ...text, audience: { all: true }, channels: ['in_app'], category: 'app-defined' },
      });
      expect(broadcast.statusCode).toBe(400);
      expect(broadcast.json().errors).toEqual([expect.objectContaining({ field: '/body/category' })]);
      expect(await h.models.notifications.countDocuments()).toBe(before);
      expect(await h.models.broadcasts.countDocuments({ category: 'app-defined' })).toBe(0);
    });

    it('skips a channel muted for the category: in-app delivered, email skipped/preference, no email job; critical still emails', async () => {
      const user = await h.registerUser();
      const token = h.token(user.userId);
      const muted = await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: {}, categories: { marketing: { email: false } } },
      });
      expect(muted.statusCode).toBe(200);

      const marketing = await send(admin, {
        recipient: { userId: user.userId },
        channels: ['in_app', 'email'],
        category: 'marketing',
      });
      expect(marketing.statusCode).toBe(202);
      expect(marketing.json().statuses).toEqual({ in_app: 'delivered', email: 'skipped' });
      const stored = await h.stored(marketing.json().id);
      expect(stored.deliveries.email).toMatchObject({ status: 'skipped', reason: 'preference' });
      expect(stored.deliveries.email.jobId).toBeUndefined();
      expect(stored.history).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ channel: 'email', status: 'skipped', reason: 'preference' }),
        ]),
      );
      const view = (await h.request('GET', `/api/v1/notifications/${marketing.json().id}`, { token })).json();
      expect(view.deliveries.email).toMatchObject({ status: 'skipped', reason: 'preference' });
      expect(view.history).toContainEqual(
        expect.objectContaining({ channel: 'email', status: 'skipped', detail: { reason: 'preference' } }),
      );

      const critical = await send(admin, {
        recipient: { userId: user.userId },
        channels: ['in_app', 'email'],
        category: 'security',
      });
      expect(critical.json().statuses).toEqual({ in_app: 'delivered', email: 'queued' });

      // Once both are confirmed, everything they owed is on the queue: only the critical one's job.
      await waitFor(() => h.confirmed(marketing.json().id), { description: 'the marketing send published' });
      await waitFor(() => h.confirmed(critical.json().id), { description: 'the critical send published' });
      const jobs = await h.drain(h.names.queues.work.email);
      expect(jobs.map((job) => job.payload.notificationId)).toEqual([critical.json().id]);
    });

    it('skips a channel muted globally, in every non-critical category, for each recipient of a batch', async () => {
      const [quiet, loud] = [await h.registerUser(), await h.registerUser()];
      await h.request('PUT', '/api/v1/preferences', {
        token: h.token(quiet.userId),
        body: { channels: { email: false }, categories: {} },
      });
      const response = await send(admin, {
        recipients: [{ userId: quiet.userId }, { userId: loud.userId }],
        channels: ['in_app', 'email'],
      });
      expect(response.statusCode).toBe(202);
      expect(response.json().notifications.map((n: Json) => n.statuses)).toEqual([
        { in_app: 'delivered', email: 'skipped' },
        { in_app: 'delivered', email: 'queued' },
      ]);
      await h.drain(h.names.queues.work.email);
    });
    it('reads a recipient’s preferences once for repeated sends, and a change made here applies at once', async () => {
      const user = await h.registerUser();
      const finds = jest.spyOn(h.models.preferences.collection, 'find');
      try {
        for (let round = 0; round < 3; round += 1) {
          const sent = await send(admin, {
            recipient: { userId: user.userId },
            channels: ['in_app', 'email'],
          });
          expect(sent.json().statuses).toEqual({ in_app: 'delivered', email: 'queued' });
        }
        // the clock stands still: within the cache's TTL, one read for three sends
        expect(finds).toHaveBeenCalledTimes(1);
        clock = new Date(clock.getTime() + 2_000);
        await send(admin, { recipient: { userId: user.userId }, channels: ['in_app'] });
        expect(finds).toHaveBeenCalledTimes(2);
        await h.request('PUT', '/api/v1/preferences', {
          token: h.token(user.userId),
          body: { channels: { email: false }, categories: {} },
        });
        const after = await send(admin, {
          recipient: { userId: user.userId },
          channels: ['in_app', 'email'],
        });
        expect(after.json().statuses).toEqual({ in_app: 'delivered', email: 'skipped' });
      } finally {
        finds.mockRestore();
      }
      await h.drain(h.names.queues.work.email);
    });
  });

  describe('preferences', () => {
    it('are audited: who changed them, when, from what', async () => {
      const user = await h.registerUser();
      const token = h.token(user.userId);
      expect((await h.request('GET', '/api/v1/preferences', { token })).json()).toEqual({
        channels: {},
        categories: {},
      });
      await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: { sms: false }, categories: {} },
      });
      const second = await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: {}, categories: { marketing: { email: false, in_app: true } } },
      });
      expect(second.json()).toMatchObject({
        channels: {},
        categories: { marketing: { email: false, in_app: true } },
        changes: [
          { by: user.userId, byKind: 'user' },
          { by: user.userId, byKind: 'user' },
        ],
      });
      const record = (await h.models.preferences.findById(user.userId).lean())!;
      expect(record.audit.map((change) => change.from)).toEqual([
        { channels: {}, categories: [] },
        { channels: { sms: false }, categories: [] },
      ]);
    });

    it('refuse a channel outside the enum and an unknown category, naming the field', async () => {
      const token = h.token((await h.registerUser()).userId);
      const badChannel = await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: { pigeon: false }, categories: {} },
      });
      expect(badChannel.statusCode).toBe(400);
      expect(JSON.stringify(badChannel.json().errors)).toContain('/body/channels');

      const badCategoryChannel = await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: {}, categories: { marketing: { fax: false } } },
      });
      expect(badCategoryChannel.statusCode).toBe(400);
      expect(JSON.stringify(badCategoryChannel.json().errors)).toContain('/body/categories/marketing');

      const unknown = await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: {}, categories: { nowhere: { email: false } } },
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({ errors: [{ field: '/body/categories/nowhere' }] });
      expect(await h.models.preferences.exists({ _id: (await h.registerUser()).userId })).toBeNull();
    });

    it('refuse an unknown time zone, a quiet window with equal ends or without a time zone, naming the field', async () => {
      const user = await h.registerUser();
      const token = h.token(user.userId);
      const put = (body: Json) =>
        h.request('PUT', '/api/v1/preferences', { token, body: { channels: {}, categories: {}, ...body } });
      const cases: [Json, string][] = [
        [{ timeZone: 'Mars/Olympus_Mons' }, '/body/timeZone'],
        [{ timeZone: 'Europe/Paris', quietHours: { start: '22:00', end: '22:00' } }, '/body/quietHours/end'],
        [{ quietHours: { start: '22:00', end: '07:00' } }, '/body/timeZone'],
        [
          { timeZone: 'Europe/Paris', quietHours: { start: '24:00', end: '07:00' } },
          '/body/quietHours/start',
        ],
      ];
      for (const [body, field] of cases) {
        const response = await put(body);
        expect({ body, status: response.statusCode }).toEqual({ body, status: 400 });
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().errors).toContainEqual(expect.objectContaining({ field }));
      }
      expect(await h.models.preferences.exists({ _id: user.userId })).toBeNull();

      const good = await put({ timeZone: 'Europe/Paris', quietHours: { start: '22:00', end: '07:00' } });
      expect(good.statusCode).toBe(200);
      expect(good.json()).toMatchObject({
        timeZone: 'Europe/Paris',
        quietHours: { start: '22:00', end: '07:00' },
      });
      // a later PUT without them clears them (a PUT replaces the whole)
      expect((await put({})).json()).not.toHaveProperty('quietHours');
    });

    it('show each change with who made it and from what to what; an admin reads them, nobody else', async () => {
      const user = await h.registerUser();
      const token = h.token(user.userId);
      await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: { sms: false }, categories: {} },
      });
      const viewed = await h.request('GET', '/api/v1/preferences', { token });
      expect(viewed.json().changes).toEqual([
        expect.objectContaining({
          by: user.userId,
          byKind: 'user',
          from: { channels: {}, categories: {} },
          to: { channels: { sms: false }, categories: {} },
        }),
      ]);
      const asAdmin = await h.request('GET', `/api/v1/preferences/users/${user.userId}`, { token: admin });
      expect(asAdmin.statusCode).toBe(200);
      expect(asAdmin.json().changes).toHaveLength(1);
      const other = await h.registerUser();
      expect(
        (await h.request('GET', `/api/v1/preferences/users/${user.userId}`, { token: h.token(other.userId) }))
          .statusCode,
      ).toBe(403);
      expect((await h.request('GET', `/api/v1/preferences/users/${user.userId}`)).statusCode).toBe(401);
    });

    it('a subscriber with an inbox token reads and sets its own, and cannot set another', async () => {
      await h.upsertSubscriber('ext-ada', { email: 'ada@example.com' });
      await h.upsertSubscriber('ext-bob', { email: 'bob@example.com' });
      const token = h.inboxToken('ext-ada');
      const set = await h.request('PUT', '/api/v1/preferences', {
        token,
        body: { channels: { email: false }, categories: {} },
      });
      expect(set.statusCode).toBe(200);
      expect(set.json().changes).toEqual([
        expect.objectContaining({ by: 'sub:ext-ada', byKind: 'subscriber' }),
      ]);
      expect((await h.request('GET', '/api/v1/preferences', { token })).json().channels).toEqual({
        email: false,
      });

      const other = await h.request('PUT', '/api/v1/preferences/subscribers/ext-bob', {
        token,
        body: { channels: { email: false }, categories: {} },
      });
      expect(other.statusCode).toBe(403);
      expect(await h.models.preferences.exists({ _id: 'sub:ext-bob' })).toBeNull();

      // Its muted email is skipped when an application notifies it.
      const key = await h.createApiKey(['notifications:send', 'subscribers:write']);
      const sent = await send(key.key, {
        recipient: { subscriberId: 'ext-ada' },
        channels: ['in_app', 'email'],
      });
      expect(sent.json().statuses).toEqual({ in_app: 'delivered', email: 'skipped' });
    });

    it('an API key with subscribers:write sets a subscriber’s; one without cannot', async () => {
      await h.upsertSubscriber('ext-cy', { email: 'cy@example.com' });
      const writer = await h.createApiKey(['subscribers:write']);
      const put = await h.request('PUT', '/api/v1/preferences/subscribers/ext-cy', {
        token: writer.key,
        body: { channels: {}, categories: { marketing: { email: false } } },
      });
      expect(put.statusCode).toBe(200);
      expect(put.json().changes).toEqual([
        expect.objectContaining({ by: writer.snapshot.keyId, byKind: 'apikey' }),
      ]);
      const read = await h.request('GET', '/api/v1/preferences/subscribers/ext-cy', { token: writer.key });
      expect(read.json().categories).toEqual({ marketing: { email: false } });

      const sender = await h.createApiKey(['notifications:send']);
      const refused = await h.request('GET', '/api/v1/preferences/subscribers/ext-cy', { token: sender.key });
      expect(refused.statusCode).toBe(403);
      expect(
        (await h.request('GET', '/api/v1/preferences/subscribers/nobody', { token: writer.key })).statusCode,
      ).toBe(404);
    });
  });
});
