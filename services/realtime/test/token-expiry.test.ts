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

describe('a token that expires while connected', () => {
  let harness: RealtimeHarness;
  let instance: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-expiry');
    instance = await harness.startInstance({ reauthLeadMs: 1500 });
  });
  afterAll(() => harness.cleanup());

  const refresh = (socket: ReturnType<RealtimeHarness['client']>, token: unknown) =>
    socket.timeout(2000).emitWithAck('auth:refresh', token) as Promise<RefreshAck>;

  it('asks the client to re-authenticate, then disconnects it at expiry', async () => {
    const socket = harness.client(instance.url, {
      auth: { token: harness.token('mia', { expiresInSeconds: 2 }) },
    });
    const expiring = record<{ expiresAt: string }>(socket, 'auth:expiring');
    const expired = record(socket, 'auth:expired');
    const reasons = record<string>(socket, 'disconnect');
    await connected(socket);

    await waitFor(() => expiring.length === 1, { timeoutMs: 2000, description: 'auth:expiring' });
    const expiresAt = Date.parse(expiring[0]!.expiresAt);
    await waitFor(() => reasons.length === 1, { timeoutMs: 5000, description: 'the disconnect' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(expired).toEqual([{ code: 'token_expired' }]);
    // A server disconnect: the client does not reconnect by itself with the dead token.
    expect(reasons).toEqual(['io server disconnect']);
    expect(socket.active).toBe(false);
  });

  it('keeps a socket that sends a fresh token of the same user, and refuses another user’s', async () => {
    const socket = harness.client(instance.url, {
      auth: { token: harness.token('noah', { expiresInSeconds: 2 }) },
    });
    const expiring = record<{ expiresAt: string }>(socket, 'auth:expiring');
    const received = record<NotificationNewEvent>(socket, 'notification:new');
    await connected(socket);
    await waitFor(() => expiring.length === 1, { timeoutMs: 2000, description: 'auth:expiring' });
    const firstExpiry = Date.parse(expiring[0]!.expiresAt);

    expect(await refresh(socket, harness.token('olivia'))).toEqual({
      ok: false,
      code: 'user_mismatch',
      message: 'The token belongs to another user',
    });
    expect(await refresh(socket, 'garbage')).toMatchObject({ ok: false, code: 'invalid_token' });
    const renewed = await refresh(socket, harness.token('noah', { expiresInSeconds: 600 }));
    expect(renewed.ok).toBe(true);

    // Outlive the first token, then prove the socket still receives what is pushed to noah.
    await waitFor(() => Date.now() > firstExpiry + 300, { timeoutMs: 4000, description: 'the old expiry' });
    const notification = aNotification();
    await harness.publishCreated('noah', notification);
    await waitFor(() => received.length === 1, { description: 'a push after the old expiry' });
    expect(socket.connected).toBe(true);
    expect(received[0]?.notification.id).toBe(notification.id);
  });
});
