import { TestTokenIssuer } from '@herald/test-support';
import {
  startHarness,
  type RealtimeHarness,
  connected,
  metricValue,
  refused,
  waitFor,
  type Instance,
} from './harness';

describe('the Socket.IO handshake', () => {
  let harness: RealtimeHarness;
  let instance: Instance;

  beforeAll(async () => {
    harness = await startHarness('realtime-handshake');
    instance = await harness.startInstance({ maxConnectionsPerUser: 2 });
  });
  afterAll(() => harness.cleanup());

  it('refuses a connection without a token', async () => {
    const error = await refused(harness.client(instance.url));
    expect(error.message).toBe(
      'An access token or inbox token is required: send it as auth.token or an Authorization: Bearer header',
    );
    expect(error.data).toEqual({ code: 'missing_token', status: 401 });
  });

  it('refuses a malformed token and a token signed by someone else', async () => {
    const garbage = await refused(harness.client(instance.url, { auth: { token: 'not-a-jwt' } }));
    expect(garbage.data).toEqual({ code: 'invalid_token', status: 401 });
    expect(garbage.message).toBe('The token is malformed');

    const forged = new TestTokenIssuer().sign({ sub: 'mallory' });
    const foreign = await refused(harness.client(instance.url, { auth: { token: forged } }));
    expect(foreign.data).toEqual({ code: 'invalid_token', status: 401 });
  });

  it('refuses an expired token', async () => {
    const token = harness.token('late-user', { expiresInSeconds: -60 });
    const error = await refused(harness.client(instance.url, { auth: { token } }));
    expect(error.data).toEqual({ code: 'token_expired', status: 401 });
    expect(error.message).toBe('The access token has expired');
  });

  it('refuses a malformed catch-up time, naming the field', async () => {
    const token = harness.token('user-since');
    const error = await refused(harness.client(instance.url, { auth: { token, since: 'yesterday' } }));
    expect(error.data).toEqual({ code: 'invalid_handshake', status: 400 });
    expect(error.message).toContain('auth/since');
  });

  it('accepts a token in the Authorization header', async () => {
    const socket = harness.client(instance.url, {
      extraHeaders: { authorization: `Bearer ${harness.token('header-user')}` },
    });
    await connected(socket);
    expect(socket.connected).toBe(true);
    socket.disconnect();
  });

  it('limits the sockets one user holds, and frees the slot when one closes', async () => {
    const first = await harness.connectAs(instance.url, 'busy-user');
    await harness.connectAs(instance.url, 'busy-user');
    const third = await refused(
      harness.client(instance.url, { auth: { token: harness.token('busy-user') } }),
    );
    expect(third.data).toEqual({ code: 'too_many_connections', status: 429 });
    // Another user is not affected by this one's limit.
    await harness.connectAs(instance.url, 'other-user');

    first.disconnect();
    await waitFor(
      async () => {
        const retry = harness.client(instance.url, { auth: { token: harness.token('busy-user') } });
        await connected(retry);
        return true;
      },
      { description: 'a freed slot for busy-user' },
    );
  });

  it('closes a connection that sends more than the payload limit', async () => {
    const socket = await harness.connectAs(instance.url, 'chatty-user');
    const reasons: string[] = [];
    socket.on('disconnect', (reason) => reasons.push(reason));
    socket.emit('auth:refresh', 'x'.repeat(instance.settings.maxHttpBufferBytes + 1));
    await waitFor(() => reasons.length === 1, { description: 'the disconnect' });
    expect(reasons).toEqual(['transport close']);
  });

  it('counts connected sockets and refused handshakes in /metrics', async () => {
    const before = (await metricValue(instance.app, /^realtime_connected_sockets\b/)) ?? 0;
    const socket = await harness.connectAs(instance.url, 'metered-user');
    expect(await metricValue(instance.app, /^realtime_connected_sockets\b/)).toBe(before + 1);
    socket.disconnect();
    await waitFor(async () => (await metricValue(instance.app, /^realtime_connected_sockets\b/)) === before);

    expect(
      await metricValue(instance.app, /^realtime_handshakes_rejected_total\{[^}]*code="token_expired"/),
    ).toBe(1);
    expect(
      await metricValue(instance.app, /^realtime_handshakes_rejected_total\{[^}]*code="missing_token"/),
    ).toBe(1);
  });

  it('is live and documents itself', async () => {
    expect((await instance.app.inject({ url: '/health/live' })).json()).toEqual({ status: 'ok' });
    expect((await instance.app.inject({ url: '/docs/json' })).json().info.title).toBe('Herald realtime');
  });

  it('is ready while connected to the broker', async () => {
    const response = await instance.app.inject({ url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', checks: { amqp: 'up' } });
  });
});
