import { seedSystemTemplates } from '../src/templates/domain/seed';
import { SYSTEM_TEMPLATES, type SystemTemplate } from '../src/templates/domain/system';
import { startHarness, type Harness, type Json } from './harness';

describe('templates API', () => {
  let h: Harness;
  const admin = () => h.token('admin-1', 'admin');

  beforeAll(async () => {
    h = await startHarness('notif-templates-api');
  });
  afterAll(() => h.close());

  const orderShipped = (key: string): Json => ({
    key,
    description: 'Order shipped',
    channels: ['email', 'sms', 'in_app'],
    defaultLocale: 'en',
    variables: {
      type: 'object',
      properties: { name: { type: 'string' }, orderId: { type: 'string' }, total: { type: 'number' } },
      required: ['name', 'orderId'],
    },
    locales: {
      en: {
        subject: 'Order {{orderId}} shipped',
        html: '<p>Hi {{name}}, order {{orderId}} is on its way.</p>',
        sms: 'Order {{orderId}} shipped',
        inApp: { title: 'Order shipped', body: 'Order {{orderId}} is on its way' },
      },
      'pt-br': {
        subject: 'Pedido {{orderId}} enviado',
        html: '<p>Olá {{name}}, o pedido {{orderId}} está a caminho.</p>',
        sms: 'Pedido {{orderId}} enviado',
        inApp: { title: 'Pedido enviado', body: 'Pedido {{orderId}} a caminho' },
      },
    },
  });

  const create = (body: Json, token = admin()) => h.request('POST', '/api/v1/templates', { token, body });

  it('creates a template as version 1, with canonical locale tags, and reads it back', async () => {
    const created = await create(orderShipped('order-shipped'));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      key: 'order-shipped',
      version: 1,
      system: false,
      updatedBy: 'admin-1',
      channels: ['email', 'sms', 'in_app'],
      defaultLocale: 'en',
    });
    expect(Object.keys(created.json().locales)).toEqual(['en', 'pt-BR']);

    const read = await h.request('GET', '/api/v1/templates/order-shipped', { token: admin() });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created.json());

    const again = await create(orderShipped('order-shipped'));
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('template_exists');
  });

  it('refuses a template that does not compile with 422 naming the locale and field', async () => {
    const body = orderShipped('broken');
    body.locales['pt-br'].html = '<p>{{#if name}}Olá</p>';
    body.locales.en.sms = '<b>Order</b> {{orderId}}';
    const response = await create(body);
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'template_invalid', status: 422 });
    expect(response.json().errors).toEqual([
      { field: '/body/locales/en/sms', message: expect.stringContaining('markup') },
      { field: '/body/locales/pt-BR/html', message: expect.stringContaining('does not compile') },
    ]);
    expect(await h.models.notifications.db.collection('templates').countDocuments({ key: 'broken' })).toBe(0);
  });

  it('makes every edit a new version, keeps the history, and answers a stale base version with 409', async () => {
    await create(orderShipped('versioned'));
    const patched = await h.request('PATCH', '/api/v1/templates/versioned', {
      token: admin(),
      body: {
        locales: { en: { ...orderShipped('x').locales.en, subject: 'Shipped: {{orderId}}' } },
        baseVersion: 1,
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ version: 2 });
    expect(patched.json().locales['pt-BR'].subject).toBe('Pedido {{orderId}} enviado');

    const { key: _key, ...content } = orderShipped('x');
    const replaced = await h.request('PUT', '/api/v1/templates/versioned', {
      token: h.token('admin-2', 'admin'),
      body: { ...content, description: 'Replaced', baseVersion: 2 },
    });
    expect(replaced.json()).toMatchObject({ version: 3, description: 'Replaced', updatedBy: 'admin-2' });

    // An edit based on version 2, made after version 3 exists, loses: nothing is overwritten silently.
    const stale = await h.request('PATCH', '/api/v1/templates/versioned', {
      token: admin(),
      body: { description: 'Lost update', baseVersion: 2 },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'template_version_conflict', status: 409 });

    // The same content again makes no version.
    const unchanged = await h.request('PUT', '/api/v1/templates/versioned', {
      token: admin(),
      body: { ...content, description: 'Replaced' },
    });
    expect(unchanged.json().version).toBe(3);

    const versions = await h.request('GET', '/api/v1/templates/versioned/versions?limit=2', {
      token: admin(),
    });
    expect(versions.statusCode).toBe(200);
    expect(versions.json().items.map((item: Json) => [item.version, item.createdBy])).toEqual([
      [3, 'admin-2'],
      [2, 'admin-1'],
    ]);
    const rest = await h.request(
      'GET',
      `/api/v1/templates/versioned/versions?limit=2&cursor=${versions.json().nextCursor}`,
      { token: admin() },
    );
    expect(rest.json()).toMatchObject({ items: [{ version: 1 }], nextCursor: null });

    const first = await h.request('GET', '/api/v1/templates/versioned/versions/1', { token: admin() });
    expect(first.json()).toMatchObject({ version: 1, description: 'Order shipped' });
    expect(first.json().locales.en.subject).toBe('Order {{orderId}} shipped');
    const missing = await h.request('GET', '/api/v1/templates/versioned/versions/9', { token: admin() });
    expect(missing.statusCode).toBe(404);
  });

  it('lets concurrent edits each either win a version of their own or get 409, never overwrite unseen', async () => {
    await create(orderShipped('contended'));
    const edits = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        h.request('PATCH', '/api/v1/templates/contended', {
          token: admin(),
          body: { description: `edit ${index}` },
        }),
      ),
    );
    const statuses = edits.map((edit) => edit.statusCode);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    const won = edits.filter((edit) => edit.statusCode === 200).map((edit) => edit.json().version);
    // Each winner made exactly one version, and no two winners share one.
    expect(new Set(won).size).toBe(won.length);
    const history = await h.models.notifications.db
      .collection('template_versions')
      .find({ key: 'contended' })
      .sort({ version: 1 })
      .toArray();
    expect(history.map((version) => version.version)).toEqual(
      Array.from({ length: won.length + 1 }, (_, index) => index + 1),
    );
  });

  it('previews every channel with the data, in the resolved locale, without storing or sending', async () => {
    await create(orderShipped('preview-me'));
    const before = await h.models.notifications.countDocuments();
    const preview = await h.request('POST', '/api/v1/templates/preview-me/preview', {
      token: admin(),
      body: { locale: 'pt-BR', data: { name: 'Zoé <b>', orderId: 'A-1' } },
    });
    expect(preview.statusCode).toBe(200);
    const result = preview.json();
    expect(result).toMatchObject({
      key: 'preview-me',
      version: 1,
      locale: 'pt-BR',
      subject: 'Pedido A-1 enviado',
      sms: 'Pedido A-1 enviado',
      inApp: { title: 'Pedido enviado', body: 'Pedido A-1 a caminho' },
    });
    expect(result.html).toContain('Olá Zoé &lt;b&gt;, o pedido A-1 está a caminho.');
    expect(result.text).toContain('Olá Zoé <b>, o pedido A-1 está a caminho.');
    expect(await h.models.notifications.countDocuments()).toBe(before);
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);

    const fallback = await h.request('POST', '/api/v1/templates/preview-me/preview', {
      token: admin(),
      body: { locale: 'de-CH', data: { name: 'Ada', orderId: 'A-2' } },
    });
    expect(fallback.json()).toMatchObject({ locale: 'en', subject: 'Order A-2 shipped' });

    const missing = await h.request('POST', '/api/v1/templates/preview-me/preview', {
      token: admin(),
      body: { data: { name: 'Ada' } },
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toMatchObject({
      code: 'template_data_invalid',
      errors: [{ field: '/body/data/orderId', message: expect.stringContaining('orderId') }],
    });
  });

  it('previews an older version on request', async () => {
    await create(orderShipped('preview-old'));
    await h.request('PATCH', '/api/v1/templates/preview-old', {
      token: admin(),
      body: { locales: { en: { ...orderShipped('x').locales.en, subject: 'v2 {{orderId}}' } } },
    });
    const current = await h.request('POST', '/api/v1/templates/preview-old/preview', {
      token: admin(),
      body: { data: { name: 'Ada', orderId: '7' } },
    });
    const old = await h.request('POST', '/api/v1/templates/preview-old/preview', {
      token: admin(),
      body: { version: 1, data: { name: 'Ada', orderId: '7' } },
    });
    expect([current.json().version, current.json().subject]).toEqual([2, 'v2 7']);
    expect([old.json().version, old.json().subject]).toEqual([1, 'Order 7 shipped']);
  });

  it('is for admins only: a user gets 403 on every route, no token 401', async () => {
    await create(orderShipped('admins-only'));
    const user = h.token('user-1');
    const calls: [Parameters<Harness['request']>[0], string, Json?][] = [
      ['GET', '/api/v1/templates'],
      ['POST', '/api/v1/templates', orderShipped('by-user')],
      ['GET', '/api/v1/templates/admins-only'],
      ['PATCH', '/api/v1/templates/admins-only', { description: 'x' }],
      ['DELETE', '/api/v1/templates/admins-only'],
      ['GET', '/api/v1/templates/admins-only/versions'],
      ['POST', '/api/v1/templates/admins-only/preview', { data: {} }],
    ];
    for (const [method, url, body] of calls) {
      const response = await h.request(method, url, { token: user, ...(body ? { body } : {}) });
      expect({ method, url, status: response.statusCode }).toEqual({ method, url, status: 403 });
      expect((await h.request(method, url, body ? { body } : {})).statusCode).toBe(401);
    }
    expect((await h.request('GET', '/api/v1/templates/admins-only', { token: admin() })).json().version).toBe(
      1,
    );
  });

  it('soft-deletes a template (its versions stay) and refuses to delete a system template', async () => {
    await create(orderShipped('short-lived'));
    expect((await h.request('DELETE', '/api/v1/templates/short-lived', { token: admin() })).statusCode).toBe(
      204,
    );
    expect((await h.request('GET', '/api/v1/templates/short-lived', { token: admin() })).statusCode).toBe(
      404,
    );
    const history = await h.request('GET', '/api/v1/templates/short-lived/versions', { token: admin() });
    expect(history.json().items).toHaveLength(1);
    // Creating the key again continues its history.
    expect((await create(orderShipped('short-lived'))).json().version).toBe(2);

    const system = await h.request('DELETE', '/api/v1/templates/verify-email', { token: admin() });
    expect(system.statusCode).toBe(409);
    expect(system.json().code).toBe('template_system');
  });

  it('lists live templates in key order, system ones included', async () => {
    await create(orderShipped('listed'));
    const page = await h.request('GET', '/api/v1/templates?limit=100', { token: admin() });
    const keys = page.json().items.map((item: Json) => item.key);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(['verify-email', 'password-reset', 'welcome', 'listed']));
    expect(keys).not.toContain('broken');
    const verify = page.json().items.find((item: Json) => item.key === 'verify-email');
    expect(verify).toMatchObject({ system: true, locales: ['en', 'fr', 'de', 'es'], channels: ['email'] });
  });

  describe('system templates at start', () => {
    const versionsOf = (key: string) =>
      h.models.notifications.db.collection('template_versions').countDocuments({ key });
    const head = (key: string) => h.models.notifications.db.collection('templates').findOne({ key });

    it('are seeded once: restarts, even concurrent ones, make no new version', async () => {
      const t = h.app.context.templates;
      await Promise.all([seedSystemTemplates(t, SYSTEM_TEMPLATES), seedSystemTemplates(t, SYSTEM_TEMPLATES)]);
      await seedSystemTemplates(t, SYSTEM_TEMPLATES);
      // A template new in this release, seeded by instances starting together: both try to create it.
      const fresh = { ...SYSTEM_TEMPLATES[0]!, key: 'new-in-this-release' };
      await Promise.all([1, 2, 3].map(() => seedSystemTemplates(t, [fresh])));
      for (const { key } of [...SYSTEM_TEMPLATES, fresh]) {
        expect({ key, versions: await versionsOf(key), version: (await head(key))?.version }).toEqual({
          key,
          versions: 1,
          version: 1,
        });
      }
    });

    it('take a changed shipped content as the next version, unless an admin edited the template', async () => {
      const t = h.app.context.templates;
      const [verify, reset] = SYSTEM_TEMPLATES as [SystemTemplate, SystemTemplate, SystemTemplate];
      const changed = (definition: SystemTemplate): SystemTemplate => ({
        ...definition,
        content: { ...definition.content, description: `${definition.content.description} (new release)` },
      });

      // An admin edits password-reset; then a release ships new content for both.
      const edit = await h.request('PATCH', '/api/v1/templates/password-reset', {
        token: admin(),
        body: { description: 'Our own wording' },
      });
      expect(edit.json().version).toBe(2);
      await Promise.all([
        seedSystemTemplates(t, [changed(verify), changed(reset)]),
        seedSystemTemplates(t, [changed(verify), changed(reset)]),
      ]);

      expect(await head('verify-email')).toMatchObject({
        version: 2,
        description: expect.stringContaining('new release'),
      });
      expect(await versionsOf('verify-email')).toBe(2);
      expect(await head('password-reset')).toMatchObject({ version: 2, description: 'Our own wording' });
    });
  });

  it('documents every template route under the templates tag', async () => {
    const document = (await h.request('GET', '/docs/json')).json();
    const routes = [
      ['/api/v1/templates/', 'post'],
      ['/api/v1/templates/', 'get'],
      ['/api/v1/templates/{key}', 'get'],
      ['/api/v1/templates/{key}', 'put'],
      ['/api/v1/templates/{key}', 'patch'],
      ['/api/v1/templates/{key}', 'delete'],
      ['/api/v1/templates/{key}/versions', 'get'],
      ['/api/v1/templates/{key}/versions/{version}', 'get'],
      ['/api/v1/templates/{key}/preview', 'post'],
    ] as const;
    for (const [path, method] of routes) {
      const operation = document.paths[path]?.[method];
      expect({ path, method, tags: operation?.tags }).toEqual({ path, method, tags: ['templates'] });
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['403', '422']));
    }
    expect(document.paths['/api/v1/templates/{key}/preview'].post.requestBody).toBeDefined();
  });
});
