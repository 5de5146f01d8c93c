// The services believe X-Forwarded-For from the gateway alone. The gateway
// overwrites the header with the client's address (nginx.conf; e2e/test/gateway.test.ts
// checks that through the real nginx); a service that also believed it from
// any other peer would let that peer name its own address, and with it dodge
// the per-address login and registration limits.
import { createHttpApp } from '@herald/runtime/http';
import { loadConfig as loadAuthConfig } from '../../services/auth/src/config';
import { RealtimeEnv } from '../../services/realtime/src/config';
import { testLogger } from '@herald/test-support';

async function clientAddressAsSeenWith(trustProxy: string, peer: string, forwardedFor: string) {
  const app = await createHttpApp({
    service: 'trust-check',
    description: 'trust check',
    logger: testLogger(),
    trustProxy,
  });
  app.get('/ip', async (request) => ({ ip: request.ip }));
  try {
    const response = await app.inject({
      url: '/ip',
      remoteAddress: peer,
      headers: { 'x-forwarded-for': forwardedFor },
    });
    return (response.json() as { ip: string }).ip;
  } finally {
    await app.close();
  }
}

describe('whose X-Forwarded-For a service believes, by default', () => {
  const authDefault = loadAuthConfig({}).TRUSTED_PROXIES;

  it("auth believes the gateway's on the same machine", async () => {
    expect(await clientAddressAsSeenWith(authDefault, '127.0.0.1', '1.2.3.4')).toBe('1.2.3.4');
  });

  it.each(['10.1.2.3', '192.168.1.20', '172.17.0.5', '169.254.1.1', 'fd00::5'])(
    'auth does not believe a client at %s that names its own address',
    async (peer) => {
      expect(await clientAddressAsSeenWith(authDefault, peer, '1.2.3.4')).toBe(peer);
    },
  );

  it('realtime trusts the same: loopback only', () => {
    expect(RealtimeEnv.TRUSTED_PROXIES.default).toBe(authDefault);
  });
});
