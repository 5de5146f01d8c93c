import { createServer, get, Agent, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { guardedLookup } from '../src/net';

/*
 * The connection-time half of the SSRF guard: whatever a name resolved to
 * when it was checked, the address the socket connects to is checked again
 * (DNS rebinding). `localhost` stands for a name that resolves to loopback.
 */
describe('the guarded lookup of an agent', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_request, response) => response.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  function fetchThrough(lookup: ReturnType<typeof guardedLookup>): Promise<string> {
    const agent = new Agent({ lookup, family: 4 });
    return new Promise((resolve, reject) => {
      get({ host: 'localhost', port, path: '/', agent }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => resolve(body));
      }).on('error', reject);
    }).finally(() => agent.destroy()) as Promise<string>;
  }

  it('fails the connection when the name resolves to an internal address', async () => {
    await expect(
      fetchThrough(guardedLookup({ allowPrivate: false, allowedHosts: [] })),
    ).rejects.toMatchObject({
      code: 'ETARGETREFUSED',
      message: expect.stringContaining('must be a public address: localhost (127.0.0.1)'),
    });
  });

  it('connects when config allows the name, an address, or every internal target', async () => {
    expect(await fetchThrough(guardedLookup({ allowPrivate: false, allowedHosts: ['localhost'] }))).toBe(
      'reached',
    );
    expect(await fetchThrough(guardedLookup({ allowPrivate: false, allowedHosts: ['127.0.0.1'] }))).toBe(
      'reached',
    );
    expect(await fetchThrough(guardedLookup({ allowPrivate: true, allowedHosts: [] }))).toBe('reached');
  });
});
