import { ClientEvents } from '@herald/contracts';
import { type NotificationNewEvent, type RefreshAck } from '../src/sockets/protocol';
import {
  aNotification,
  connected,
  record,
  startHarness,
  waitFor,
  type Instance,
  type RealtimeHarness,
} from './harness';
import { ManualTimers } from './support/manual-timers';

const REAUTH_LEAD_MS = 60_000;

/** When a token expires, in ms, read from its `exp` claim (seconds). */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
    exp: number;
  };
  return payload.exp * 1000;
}

/**
 * Token expiry runs on manual timers: the test moves the time to just before and to the moment
 * of the warning and of the expiry. The tokens themselves stay valid in real time, so the
 * verifier (which reads the real clock) accepts them throughout.
 */
describe('a token that expires while connected', () => {
  let harness: RealtimeHarness;
  let instance: Instance;
  let timers: ManualTimers;

  beforeAll(async () => {
    harness = await startHarness('realtime-expiry');
  });
  beforeEach(async () => {
    timers = new ManualTimers(Date.now());
    instance = await harness.startInstance({ reauthLeadMs: REAUTH_LEAD_MS }, { timers });
  });
  afterEach(() => instance.close());
  afterAll(() => harness.cleanup());

  const refresh = (socket: ReturnType<RealtimeHarness['client']>, token: unknown) =>
    socket.timeout(2000).emitWithAck(ClientEvents.authRefresh, token) as Promise<RefreshAck>;
  /**
   * A round trip to the server: the ack of a refresh it refuses comes after every event the
   * server emitted to this socket before it, on the same ordered connection.
   */
  const roundTrip = (socket: ReturnType<RealtimeHarness['client']>) => refresh(socket, '');

  it('asks the client to re-authenticate ahead of expiry, then disconnects it at expiry', async () => {
    const token = harness.token('mia', { expiresInSeconds: 600 });
    const expiresAt = expiryOf(token);
    const socket = harness.client(instance.url, { auth: { token } });
    const expiring = record<{ expiresAt: string }>(socket, 'auth:expiring');
    const expired = record(socket, 'auth:expired');
    const reasons = record<string>(socket, 'disconnect');
    await connected(socket);

    timers.advanceTo(expiresAt - REAUTH_LEAD_MS - 1);
    await roundTrip(socket);
    expect(expiring).toEqual([]);

    timers.advanceTo(expiresAt - REAUTH_LEAD_MS);
    await waitFor(() => expiring.length === 1, { description: 'auth:expiring' });
    expect(expiring).toEqual([{ expiresAt: new Date(expiresAt).toISOString() }]);

    timers.advanceTo(expiresAt - 1);
    await roundTrip(socket);
    expect(socket.connected).toBe(true);
    expect(expired).toEqual([]);

    timers.advanceTo(expiresAt);
    await waitFor(() => reasons.length === 1, { description: 'the disconnect' });
    expect(expired).toEqual([{ code: 'token_expired' }]);
    // A server disconnect: the client does not reconnect by itself with the dead token.
    expect(reasons).toEqual(['io server disconnect']);
    expect(socket.active).toBe(false);
  });

  it('keeps a socket that sends a fresh token of the same user, and refuses another user’s', async () => {
    const token = harness.token('noah', { expiresInSeconds: 600 });
    const firstExpiry = expiryOf(token);
    const socket = harness.client(instance.url, { auth: { token } });
    const expiring = record<{ expiresAt: string }>(socket, 'auth:expiring');
    const expired = record(socket, 'auth:expired');
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    await connected(socket);
    timers.advanceTo(firstExpiry - REAUTH_LEAD_MS);
    await waitFor(() => expiring.length === 1, { description: 'auth:expiring' });

    expect(await refresh(socket, harness.token('olivia'))).toEqual({
      ok: false,
      code: 'user_mismatch',
      message: 'The token belongs to another user',
    });
    expect(await refresh(socket, 'garbage')).toMatchObject({ ok: false, code: 'invalid_token' });
    const fresh = harness.token('noah', { expiresInSeconds: 1200 });
    const renewed = await refresh(socket, fresh);
    expect(renewed).toEqual({ ok: true, expiresAt: new Date(expiryOf(fresh)).toISOString() });

    // Outlive the first token, then prove the socket still receives what is pushed to noah.
    timers.advanceTo(firstExpiry + 1_000);
    await roundTrip(socket);
    expect(expired).toEqual([]);
    const notification = aNotification();
    await harness.publishCreated('noah', notification);
    await waitFor(() => received.length === 1, { description: 'a push after the old expiry' });
    expect(socket.connected).toBe(true);
    expect(received[0]?.notification.id).toBe(notification.id);

    // The fresh token's own expiry still ends the socket.
    timers.advanceTo(expiryOf(fresh));
    await waitFor(() => expired.length === 1, { description: 'auth:expired of the fresh token' });
  });
});
