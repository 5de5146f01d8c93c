import { ClientEvents, ServerEvents } from '@herald/contracts';
import { type Socket as ClientSocket } from 'socket.io-client';
import { AccountStates } from '../src/sockets/account-states';
import {
  aNotification,
  connected,
  record,
  refused,
  startHarness,
  stored,
  waitFor,
  type Instance,
  type RealtimeHarness,
} from './harness';

// auth's user.updated on the real broker, real socket.io clients: a disabled account or a new
// role takes effect on every instance as soon as the event arrives, not when the token expires.
describe("auth's account changes", () => {
  let harness: RealtimeHarness;
  let first: Instance;
  let second: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-account-changes');
    first = await harness.startInstance();
    second = await harness.startInstance();
  });
  afterAll(() => harness.cleanup());

  const disconnectedBy = (socket: ClientSocket) =>
    new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

  it("disconnects a disabled user's sockets on every instance, telling them why, and no one else's", async () => {
    const onFirst = await harness.connectAs(first.url, 'kim');
    const onSecond = await harness.connectAs(second.url, 'kim');
    const bystander = await harness.connectAs(first.url, 'lee');
    const expired = [record(onFirst, ServerEvents.authExpired), record(onSecond, ServerEvents.authExpired)];
    const reasons = Promise.all([disconnectedBy(onFirst), disconnectedBy(onSecond)]);

    await harness.publishUserUpdated('kim', { disabled: true });

    // a server disconnect: the client does not reconnect by itself with the same token
    expect(await reasons).toEqual(['io server disconnect', 'io server disconnect']);
    expect(expired).toEqual([[{ code: 'account_disabled' }], [{ code: 'account_disabled' }]]);
    // the events that follow still reach everyone else
    const notification = aNotification();
    const received = record(bystander, ServerEvents.notificationNew);
    await harness.publishCreated('lee', notification);
    await waitFor(() => received.length === 1, { description: "lee's notification" });
    expect(bystander.connected).toBe(true);
  });

  it('refuses the disabled user a new connection on every instance while its token still verifies, until re-enabled', async () => {
    const before = await harness.connectAs(first.url, 'max');
    const gone = disconnectedBy(before);
    await harness.publishUserUpdated('max', { disabled: true });
    await gone;

    for (const instance of [first, second]) {
      const error = await refused(harness.client(instance.url, { auth: { token: harness.token('max') } }));
      expect(error.data).toEqual({ code: 'account_disabled', status: 403 });
    }

    // re-enabled: let in again
    await harness.publishUserUpdated('max', { disabled: false });
    await waitFor(
      async () => {
        const socket = harness.client(first.url, { auth: { token: harness.token('max') } });
        return connected(socket).then(
          () => true,
          () => false,
        );
      },
      { description: 'max let in again after being re-enabled' },
    );
  });

  it('disconnects a demoted admin, whose token still says admin, and lets the refreshed token in', async () => {
    const adminToken = harness.token('oli', { role: 'admin' });
    const admin = harness.client(first.url, { auth: { token: adminToken } });
    await connected(admin);
    const expired = record(admin, ServerEvents.authExpired);
    const gone = disconnectedBy(admin);

    await harness.publishUserUpdated('oli', { role: 'user' });

    expect(await gone).toBe('io server disconnect');
    expect(expired).toEqual([{ code: 'role_changed' }]);
    const stale = await refused(harness.client(first.url, { auth: { token: adminToken } }));
    expect(stale.data).toEqual({ code: 'role_changed', status: 401 });
    // the token auth issues after the change carries the new role
    const current = harness.client(first.url, { auth: { token: harness.token('oli', { role: 'user' }) } });
    await connected(current);
    const ack = await current.emitWithAck(ClientEvents.authRefresh, adminToken);
    expect(ack).toMatchObject({ ok: false, code: 'role_changed' });
  });

  it('keeps sockets whose token matches the account after a change that touches neither role nor status', async () => {
    const socket = await harness.connectAs(first.url, 'pat');
    await harness.publishUserUpdated('pat', { name: 'Pat Renamed' });
    // proof the event was handled: a later event for pat arrives on the same, still connected socket
    const received = record(socket, ServerEvents.notificationNew);
    await harness.publishCreated('pat', aNotification());
    await waitFor(() => received.length === 1, { description: "pat's notification" });
    expect(socket.connected).toBe(true);
  });

  it('ignores an event older than the one it knows', async () => {
    await harness.publishUserUpdated(
      'quin',
      { disabled: true },
      { occurredAt: new Date('2030-01-01T00:00:00Z') },
    );
    await harness.publishUserUpdated(
      'quin',
      { disabled: false },
      { occurredAt: new Date('2029-01-01T00:00:00Z') },
    );
    // both handled once a later event for someone else is (one queue, in order)
    const probe = await harness.connectAs(first.url, 'probe');
    const received = record(probe, ServerEvents.notificationNew);
    await harness.publishCreated('probe', aNotification());
    await waitFor(() => received.length === 1, { description: 'the probe notification' });
    const error = await refused(harness.client(first.url, { auth: { token: harness.token('quin') } }));
    expect(error.data?.code).toBe('account_disabled');
  });

  // An instance that started after the event never saw it; the notification service, which catch-up
  // calls with the user's own token, knows the account is disabled.
  it('disconnects a socket whose catch-up the notification API refuses as account_disabled', async () => {
    const late = await harness.startInstance();
    harness.api.add('ray', stored(aNotification()));
    harness.api.disable('ray');
    const socket = harness.client(late.url, {
      auth: { token: harness.token('ray'), since: new Date(0).toISOString() },
    });
    const expired = record(socket, ServerEvents.authExpired);
    const replayed = record(socket, ServerEvents.notificationNew);
    const gone = disconnectedBy(socket);
    await connected(socket);
    expect(await gone).toBe('io server disconnect');
    expect(expired).toEqual([{ code: 'account_disabled' }]);
    expect(replayed).toEqual([]);
  });
});

describe('AccountStates', () => {
  it('forgets the account heard of longest ago past its bound', () => {
    const states = new AccountStates(2);
    const at = new Date().toISOString();
    states.record({ userId: 'a', role: 'user', disabled: true }, at);
    states.record({ userId: 'b', role: 'user', disabled: true }, at);
    states.record({ userId: 'a', role: 'user', disabled: true }, at); // heard again: now the newest
    states.record({ userId: 'c', role: 'user', disabled: true }, at);
    expect(states.size).toBe(2);
    expect(states.refusal({ id: 'b', role: 'user' })).toBeUndefined();
    expect(states.refusal({ id: 'a', role: 'user' })?.code).toBe('account_disabled');
    expect(states.refusal({ id: 'c', role: 'user' })?.code).toBe('account_disabled');
  });
});
