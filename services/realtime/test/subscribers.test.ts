import { ClientEvents } from '@herald/contracts';
import {
  type CatchUpEvent,
  type NotificationNewEvent,
  type NotificationUpdatedEvent,
  type RefreshAck,
} from '../src/sockets/protocol';
import {
  aNotification,
  connected,
  metricValue,
  record,
  refused,
  startHarness,
  stored,
  waitFor,
  type Instance,
  type RealtimeHarness,
} from './harness';

const at = () => new Date().toISOString();
/** A key as auth issues it: hk_<16 hex>_<43 base64url>. Realtime refuses every key, valid or not. */
const AN_API_KEY = `hk_0123456789abcdef_${'A'.repeat(43)}`;

/** When a token expires, in ms, read from its `exp` claim (seconds). */
const expiryOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp * 1000;

/**
 * An application's subscribers on the socket (issue #15): the front end
 * connects with an inbox token minted by auth (`typ: inbox`, `sub:
 * sub:<externalId>`), and the notification service names the inbox owner
 * `sub:<externalId>` in the events' `userId`.
 */
describe('subscribers with inbox tokens', () => {
  let harness: RealtimeHarness;
  let instance: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-subscribers');
    instance = await harness.startInstance();
  });
  afterAll(() => harness.cleanup());

  const connectSubscriber = async (externalId: string) => {
    const socket = harness.client(instance.url, { auth: { token: harness.inboxToken(externalId) } });
    await connected(socket);
    return socket;
  };
  const refresh = (socket: ReturnType<RealtimeHarness['client']>, token: unknown) =>
    socket.timeout(2000).emitWithAck(ClientEvents.authRefresh, token) as Promise<RefreshAck>;

  it("pushes a subscriber's own events to its socket, never another subscriber's or a user's with a similar id", async () => {
    // A subscriber whose external id is a user's id, and that user: `sub:<id>` and `<id>` are two inboxes.
    const lookalike = '65f0c0ffee0000000000beef';
    const shopUser = await connectSubscriber('shop-user-42');
    const otherSubscriber = await connectSubscriber('shop-user-43');
    const lookalikeSubscriber = await connectSubscriber(lookalike);
    const person = await harness.connectAs(instance.url, lookalike);
    const news = {
      shopUser: record<NotificationNewEvent>(shopUser, 'notification:new'),
      otherSubscriber: record<NotificationNewEvent>(otherSubscriber, 'notification:new'),
      lookalikeSubscriber: record<NotificationNewEvent>(lookalikeSubscriber, 'notification:new'),
      person: record<NotificationNewEvent>(person, 'notification:new'),
    };
    const updates = record<NotificationUpdatedEvent>(shopUser, 'notification:updated');
    const counts = record<{ count: number }>(shopUser, 'unread-count');
    const otherUpdates = record<NotificationUpdatedEvent>(otherSubscriber, 'notification:updated');

    const forShopUser = aNotification({ title: 'Your order shipped' });
    const sent = await harness.publishCreated('sub:shop-user-42', forShopUser);
    await harness.publishUpdated(
      'sub:shop-user-42',
      forShopUser.id,
      { kind: 'read', read: true, at: at() },
      0,
    );
    // Events named by the external id alone (no `sub:`) or by the user id belong to others.
    await harness.publishCreated('shop-user-42', aNotification());
    const forPerson = aNotification({ title: 'For the person' });
    await harness.publishCreated(lookalike, forPerson);
    // Barriers: one queue, one order, so once these arrive everything before them was handled.
    const forOther = aNotification({ title: 'For shop-user-43' });
    await harness.publishCreated('sub:shop-user-43', forOther);
    const forLookalike = aNotification({ title: 'For the lookalike subscriber' });
    await harness.publishCreated(`sub:${lookalike}`, forLookalike);

    await waitFor(
      () =>
        news.shopUser.length === 1 &&
        counts.length === 1 &&
        news.otherSubscriber.length === 1 &&
        news.lookalikeSubscriber.length === 1 &&
        news.person.length === 1,
      { description: 'every socket got its own event' },
    );
    expect(news.shopUser).toEqual([
      { notification: forShopUser, occurredAt: sent.occurredAt, correlationId: sent.correlationId },
    ]);
    expect(updates.map((u) => [u.notificationId, u.change.kind, u.unreadCount])).toEqual([
      [forShopUser.id, 'read', 0],
    ]);
    expect(counts).toEqual([{ count: 0 }]);
    expect(news.otherSubscriber.map((e) => e.notification.id)).toEqual([forOther.id]);
    expect(otherUpdates).toEqual([]);
    expect(news.lookalikeSubscriber.map((e) => e.notification.id)).toEqual([forLookalike.id]);
    expect(news.person.map((e) => e.notification.id)).toEqual([forPerson.id]);
  });

  it('refuses an API key at the handshake, in auth.token or the Authorization header', async () => {
    const before = (await metricValue(instance.app, /code="principal_not_allowed"/)) ?? 0;
    const inAuth = await refused(harness.client(instance.url, { auth: { token: AN_API_KEY } }));
    expect(inAuth.data).toEqual({ code: 'principal_not_allowed', status: 403 });
    expect(inAuth.message).toBe(
      'Sockets are for people and subscribers: connect with an access token or an inbox token, not an API key',
    );
    const inHeader = await refused(
      harness.client(instance.url, { extraHeaders: { authorization: `Bearer ${AN_API_KEY}` } }),
    );
    expect(inHeader.data).toEqual({ code: 'principal_not_allowed', status: 403 });
    expect(await metricValue(instance.app, /code="principal_not_allowed"/)).toBe(before + 2);
  });

  it('refuses an expired inbox token and an inbox token that names no subscriber', async () => {
    const expired = await refused(
      harness.client(instance.url, {
        auth: { token: harness.inboxToken('shop-user-late', { expiresInSeconds: -60 }) },
      }),
    );
    expect(expired.data).toEqual({ code: 'token_expired', status: 401 });
    // `sub:` with nothing after it: the verifier refuses it rather than open a room `user:sub:`.
    const nameless = await refused(harness.client(instance.url, { auth: { token: harness.inboxToken('') } }));
    expect(nameless.data).toEqual({ code: 'invalid_token', status: 401 });
  });

  it('refreshes with a new inbox token of the same subscriber, and refuses anything else', async () => {
    const first = harness.inboxToken('shop-user-7', { expiresInSeconds: 600 });
    const socket = harness.client(instance.url, { auth: { token: first } });
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    await connected(socket);

    expect(await refresh(socket, harness.inboxToken('shop-user-8'))).toEqual({
      ok: false,
      code: 'user_mismatch',
      message: 'The token belongs to another subscriber',
    });
    // A person's access token, even with the same characters as the external id, is another principal.
    expect(await refresh(socket, harness.token('shop-user-7'))).toEqual({
      ok: false,
      code: 'user_mismatch',
      message: 'The token is not of the kind this socket connected with',
    });
    expect(await refresh(socket, AN_API_KEY)).toMatchObject({ ok: false, code: 'principal_not_allowed' });

    const fresh = harness.inboxToken('shop-user-7', { expiresInSeconds: 1200 });
    expect(await refresh(socket, fresh)).toEqual({
      ok: true,
      expiresAt: new Date(expiryOf(fresh)).toISOString(),
    });
    const notification = aNotification();
    await harness.publishCreated('sub:shop-user-7', notification);
    await waitFor(() => received.length === 1, { description: 'a push after the refresh' });
    expect(received[0]?.notification.id).toBe(notification.id);
    expect(socket.connected).toBe(true);
  });

  it("does not let a user's account change touch a subscriber's socket", async () => {
    const socket = await connectSubscriber('shop-user-9');
    const expired = record(socket, 'auth:expired');
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    // Should anything ever publish a user.updated naming the subscriber's id, it is no account of it.
    await harness.publishUserUpdated('sub:shop-user-9', { disabled: true, email: 'shop-user-9@example.com' });
    const barrier = aNotification();
    await harness.publishCreated('sub:shop-user-9', barrier);
    await waitFor(() => received.length === 1, { description: 'the barrier' });
    expect(expired).toEqual([]);
    expect(socket.connected).toBe(true);
  });

  it('replays what a subscriber missed through the notification API, with its inbox token', async () => {
    const token = harness.inboxToken('shop-user-10');
    let lastSeen: string | undefined;
    const socket = harness.client(instance.url, { auth: (send) => send({ token, since: lastSeen }) });
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    const catchUps = record<CatchUpEvent>(socket, 'catch-up');
    socket.on('notification:new', (event: NotificationNewEvent) => {
      lastSeen = event.notification.createdAt;
    });
    await connected(socket);
    const seen = aNotification();
    harness.api.add('sub:shop-user-10', stored(seen));
    await harness.publishCreated('sub:shop-user-10', seen);
    await waitFor(() => received.length === 1, { description: 'the live notification' });

    socket.disconnect();
    const missed = [aNotification(), aNotification()];
    harness.api.add('sub:shop-user-10', ...missed.map(stored));
    // Another subscriber's and a lookalike user's inboxes: the API answers the token's owner only.
    harness.api.add('sub:shop-user-11', stored(aNotification()));
    harness.api.add('shop-user-10', stored(aNotification()));
    await connected(socket);

    await waitFor(() => catchUps.length === 1, { description: 'the end of the replay' });
    expect(catchUps).toEqual([{ status: 'complete', count: 2 }]);
    expect(received.slice(1).map((e) => [e.notification.id, e.catchUp])).toEqual([
      [missed[0]!.id, true],
      [missed[1]!.id, true],
    ]);
    const replayRequests = harness.api.requests.filter((r) => r.authorization === `Bearer ${token}`);
    expect(replayRequests.map((r) => r.query.get('since'))).toEqual([seen.createdAt]);
  });

  it('serves the browser client at /socket.io/socket.io.js, so a page needs no bundler or CDN', async () => {
    const response = await fetch(`${instance.url}/socket.io/socket.io.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(await response.text()).toContain('Socket.IO');
  });
});
