import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { waitFor } from '@herald/test-support';
import { defaultEventWebhookSettings } from '../src/config';
import { SecretBox } from '../src/event-webhooks/domain/secret-box';
import { startHarness, type Harness, type Json } from './harness';

/*
 * Outgoing webhooks (issue 25): who may register endpoints and see them,
 * what is validated, and the SSRF guard, here under the default config
 * (internal addresses refused). Every target in this suite is loopback or a
 * name this suite's resolver answers; nothing leaves the machine.
 */

const ADMIN_ID = 'ewh-admin';
/** What the suite's resolver answers: names standing for public hosts and for rebinding. */
const dns = new Map<string, string[]>([
  ['loopback.example.test', ['127.0.0.1']],
  ['mixed.example.test', ['93.184.216.34', '127.0.0.1']],
  ['metadata.example.test', ['169.254.169.254']],
  ['v6-mapped.example.test', ['::ffff:127.0.0.1']],
  ['public.example.test', ['93.184.216.34']],
]);

describe('event webhook endpoints', () => {
  let h: Harness;
  let admin: string;
  let receiver: Server;
  let receiverPort: number;
  let hits = 0;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      hits += 1;
      request.resume();
      response.end('ok');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverPort = (receiver.address() as AddressInfo).port;
    h = await startHarness('notif-event-webhooks-api', {
      resolveHost: async (host) => dns.get(host) ?? [],
      settings: { eventWebhooks: { allowPrivate: false, allowedHosts: [] } as never },
    });
    admin = h.token(ADMIN_ID, 'admin');
  });
  afterAll(async () => {
    await h.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const create = (token: string | undefined, body: unknown) =>
    h.request('POST', '/api/v1/event-webhooks', { ...(token ? { token } : {}), body });

  const validBody = (url = 'https://public.example.test/hooks') => ({
    url,
    eventTypes: ['notification.delivered', 'notification.failed'],
  });

  it('registers an endpoint for an admin and shows its whsec_ secret once', async () => {
    const response = await create(admin, { ...validBody(), categories: ['billing'], description: 'ERP' });
    expect(response.statusCode).toBe(201);
    const created: Json = response.json();
    expect(created).toMatchObject({
      id: expect.stringMatching(/^ep_[0-9a-f]{24}$/),
      url: 'https://public.example.test/hooks',
      eventTypes: ['notification.delivered', 'notification.failed'],
      categories: ['billing'],
      disabled: false,
      consecutiveFailures: 0,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(24);

    const read = await h.request('GET', `/api/v1/event-webhooks/${created.id}`, { token: admin });
    expect(read.statusCode).toBe(200);
    expect(read.json().secret).toBeUndefined();
    expect(
      JSON.stringify((await h.request('GET', '/api/v1/event-webhooks', { token: admin })).json()),
    ).not.toContain(created.secret);
  });

  it('rotates the secret: a new one, shown once, the old one signing until the grace period ends', async () => {
    const { id, secret } = (await create(admin, validBody())).json();
    const rotated = await h.request('POST', `/api/v1/event-webhooks/${id}/rotate-secret`, { token: admin });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(secret);
    expect(Date.parse(rotated.json().previousSecretExpiresAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const stored: Json = await h.models.eventWebhookEndpoints.findById(id).lean();
    // stored encrypted (WEBHOOK_SECRETS_KEY), both the new secret and the one kept signing
    const box = new SecretBox(defaultEventWebhookSettings.secretsKey);
    expect(stored.secret).toMatch(new RegExp(`^enc:v2:${box.currentKeyId}:`));
    expect(box.open(stored.secret)).toBe(rotated.json().secret);
    expect(stored.previousSecrets.map((previous: Json) => box.open(previous.secret))).toEqual([secret]);
  });

  it('lets an application key with webhooks:write manage only its own endpoints: another’s is 404', async () => {
    const appA = await h.createApiKey(['notifications:send', 'webhooks:write']);
    const appB = await h.createApiKey(['webhooks:write']);
    const ofA = (await create(appA.key, validBody())).json();
    const ofAdmin = (await create(admin, validBody())).json();
    expect(ofA.id).toBeDefined();

    const listB = await h.request('GET', '/api/v1/event-webhooks', { token: appB.key });
    expect(listB.statusCode).toBe(200);
    expect(listB.json().items).toEqual([]);
    const listA = await h.request('GET', '/api/v1/event-webhooks', { token: appA.key });
    expect(listA.json().items.map((item: Json) => item.id)).toEqual([ofA.id]);

    for (const [method, path] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['POST', '/rotate-secret'],
      ['POST', '/enable'],
      ['POST', '/disable'],
      ['GET', '/deliveries'],
    ] as const) {
      for (const id of [ofA.id, ofAdmin.id]) {
        const response = await h.request(method, `/api/v1/event-webhooks/${id}${path}`, {
          token: appB.key,
          ...(method === 'PATCH' ? { body: { description: 'mine now' } } : {}),
        });
        expect({ method, path, status: response.statusCode, code: response.json().code }).toEqual({
          method,
          path,
          status: 404,
          code: 'endpoint_not_found',
        });
      }
    }
    // The admin sees every endpoint, the application's too.
    expect((await h.request('GET', `/api/v1/event-webhooks/${ofA.id}`, { token: admin })).statusCode).toBe(
      200,
    );
    // The owner changes and deletes its own.
    const patched = await h.request('PATCH', `/api/v1/event-webhooks/${ofA.id}`, {
      token: appA.key,
      body: { eventTypes: ['notification.read'], tenants: ['acme'] },
    });
    expect(patched.json()).toMatchObject({ eventTypes: ['notification.read'], tenants: ['acme'] });
    expect(
      (await h.request('DELETE', `/api/v1/event-webhooks/${ofA.id}`, { token: appA.key })).statusCode,
    ).toBe(204);
    expect((await h.request('GET', `/api/v1/event-webhooks/${ofA.id}`, { token: appA.key })).statusCode).toBe(
      404,
    );
  });

  it('caps the endpoints of one owner (each multiplies every event): 409 endpoint_limit past 20', async () => {
    const app = await h.createApiKey(['webhooks:write']);
    for (let count = 0; count < 20; count += 1)
      expect((await create(app.key, validBody())).statusCode).toBe(201);
    const refused = await create(app.key, validBody());
    expect([refused.statusCode, refused.json().code]).toEqual([409, 'endpoint_limit']);
    // another owner is not affected
    expect((await create((await h.createApiKey(['webhooks:write'])).key, validBody())).statusCode).toBe(201);
  });

  it('refuses callers without the scope: no credentials 401, a normal user, a key without webhooks:write and an inbox token 403', async () => {
    expect((await create(undefined, validBody())).statusCode).toBe(401);
    const user = await create(h.token('ewh-user'), validBody());
    expect([user.statusCode, user.json().code]).toEqual([403, 'missing_scope']);
    const sender = await h.createApiKey(['notifications:send']);
    const key = await create(sender.key, validBody());
    expect([key.statusCode, key.json().code]).toEqual([403, 'missing_scope']);
    const inbox = await create(h.inboxToken('ewh-subscriber'), validBody());
    expect(inbox.statusCode).toBe(403);
  });

  it.each([
    [{ eventTypes: ['notification.delivered'] }, '/body/url'],
    [{ url: 'https://public.example.test/', eventTypes: [] }, '/body/eventTypes'],
    [{ url: 'https://public.example.test/', eventTypes: ['notification.exploded'] }, '/body/eventTypes/0'],
    [{ url: 'https://public.example.test/', eventTypes: ['notification.read'], extra: 1 }, '/body/extra'],
    [{ url: 'ftp://public.example.test/', eventTypes: ['notification.read'] }, '/body/url'],
    [{ url: 'not a url', eventTypes: ['notification.read'] }, '/body/url'],
    [{ url: 'https://user:pass@public.example.test/', eventTypes: ['notification.read'] }, '/body/url'],
    [{ url: 'https://nowhere.example.test/', eventTypes: ['notification.read'] }, '/body/url'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const response = await create(admin, body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().errors.map((error: Json) => error.field)).toContain(field);
  });

  it.each([
    'http://127.0.0.1/',
    'http://127.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://127.255.255.254:8080/',
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://loopback.example.test/',
    'http://v6-mapped.example.test/',
    'http://mixed.example.test/',
    'http://metadata.example.test/',
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://[ff02::1]/',
  ])('refuses the internal target %s at registration', async (url) => {
    const response = await create(admin, validBody(url));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'address_not_allowed', errors: [{ field: '/body/url' }] });
  });

  it('refuses an internal target on update too', async () => {
    const { id } = (await create(admin, validBody())).json();
    const response = await h.request('PATCH', `/api/v1/event-webhooks/${id}`, {
      token: admin,
      body: { url: 'http://[::1]:9/' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('/body/url');
  });

  it('checks again at delivery time, after DNS: a name that turned to loopback since registration gets nothing', async () => {
    dns.set('rebind.example.test', ['93.184.216.34']);
    const registered = await create(admin, {
      url: `http://rebind.example.test:${receiverPort}/hook`,
      eventTypes: ['notification.created'],
    });
    expect(registered.statusCode).toBe(201);
    const endpointId = registered.json().id as string;
    dns.set('rebind.example.test', ['127.0.0.1']);

    const sent = await h.request('POST', '/api/v1/notifications', {
      token: admin,
      body: { title: 'Hi', body: 'there', recipient: { userId: ADMIN_ID }, channels: ['in_app'] },
    });
    expect(sent.statusCode).toBe(202);
    await h.app.eventWebhooks.runOnce();

    const deliveries = await waitFor(
      async () => {
        const response = await h.request('GET', `/api/v1/event-webhooks/${endpointId}/deliveries`, {
          token: admin,
        });
        const items: Json[] = response.json().items;
        return items.length > 0 && items[0].log.length > 0 ? items : undefined;
      },
      { description: 'the attempt logged' },
    );
    expect(deliveries[0]).toMatchObject({
      eventType: 'notification.created',
      status: 'pending',
      attempts: 1,
      log: [{ error: expect.stringContaining('address_not_allowed') }],
    });
    expect(deliveries[0].log[0].statusCode).toBeUndefined();
    expect(hits).toBe(0);
  });
});

describe('event webhook targets allowed by config', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('notif-event-webhooks-allow', {
      settings: { eventWebhooks: { allowPrivate: false, allowedHosts: ['127.0.0.1', 'localhost'] } as never },
    });
  });
  afterAll(() => h.close());

  it('writes no delivery for a notification while no endpoint is registered, and one per event once one is', async () => {
    const admin = h.token('ewh-admin-2', 'admin');
    const send = async () => {
      const response = await h.request('POST', '/api/v1/notifications', {
        token: admin,
        body: { title: 'Hi', body: 'there', recipient: { userId: 'ewh-admin-2' }, channels: ['in_app'] },
      });
      expect(response.statusCode).toBe(202);
    };
    await send();
    await send();
    expect(await h.models.eventWebhookDeliveries.countDocuments()).toBe(0);
    const endpoint = await h.request('POST', '/api/v1/event-webhooks', {
      token: admin,
      body: { url: 'http://127.0.0.1:9/', eventTypes: ['notification.created'] },
    });
    expect(endpoint.statusCode).toBe(201);
    // This instance's own change drops its cached list at once.
    await send();
    expect(await h.models.eventWebhookDeliveries.countDocuments()).toBe(1);
    await h.request('DELETE', `/api/v1/event-webhooks/${endpoint.json().id}`, { token: admin });
    expect(await h.models.eventWebhookDeliveries.countDocuments()).toBe(0);
  });

  it('takes the hosts EVENT_WEBHOOK_ALLOWED_HOSTS names, and still refuses the others', async () => {
    const admin = h.token('ewh-admin-2', 'admin');
    for (const url of ['http://127.0.0.1:9/', 'http://127.1:9/', 'http://localhost:9/']) {
      const response = await h.request('POST', '/api/v1/event-webhooks', {
        token: admin,
        body: { url, eventTypes: ['notification.read'] },
      });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 201 });
    }
    const refused = await h.request('POST', '/api/v1/event-webhooks', {
      token: admin,
      body: { url: 'http://[::1]:9/', eventTypes: ['notification.read'] },
    });
    expect(refused.statusCode).toBe(400);
  });
});
