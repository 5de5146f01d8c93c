// The template editor's live preview: POST /api/v1/templates/preview renders an
// unsaved draft (every locale and channel it has) with sample data, checked as
// a save would check it, and stores nothing.
import { startHarness, type Harness, type Json } from './harness';

describe('templates API: preview of an unsaved draft', () => {
  let h: Harness;
  const admin = () => h.token('admin-1', 'admin');
  const PATH = '/api/v1/templates/preview';

  beforeAll(async () => {
    h = await startHarness('notif-templates-draft');
  });
  afterAll(() => h.close());

  const draft = (): Json => ({
    channels: ['email', 'sms', 'in_app'],
    defaultLocale: 'en',
    variables: {
      type: 'object',
      properties: { name: { type: 'string' }, orderId: { type: 'string' } },
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
  const preview = (body: Json, token: string | null = admin()) =>
    h.request('POST', PATH, { ...(token ? { token } : {}), body });
  const stored = async () => ({
    templates: await h.models.notifications.db.collection('templates').countDocuments(),
    versions: await h.models.notifications.db.collection('template_versions').countDocuments(),
    notifications: await h.models.notifications.countDocuments(),
  });

  it('renders every locale and channel of the draft with the data, escaped as a send would, storing nothing', async () => {
    const before = await stored();
    const response = await preview({ template: draft(), data: { name: 'Zoé <b>', orderId: 'A-1' } });
    expect(response.statusCode).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({
      defaultLocale: 'en',
      channels: ['email', 'sms', 'in_app'],
      locales: {
        en: {
          subject: 'Order A-1 shipped',
          sms: 'Order A-1 shipped',
          inApp: { title: 'Order shipped', body: 'Order A-1 is on its way' },
        },
        'pt-BR': {
          subject: 'Pedido A-1 enviado',
          sms: 'Pedido A-1 enviado',
          inApp: { title: 'Pedido enviado', body: 'Pedido A-1 a caminho' },
        },
      },
    });
    expect(Object.keys(result.locales)).toEqual(['en', 'pt-BR']);
    // inside the shared layout, the data escaped in the HTML, plain in the generated text part
    expect(result.locales['pt-BR'].html).toContain('Olá Zoé &lt;b&gt;, o pedido A-1 está a caminho.');
    expect(result.locales['pt-BR'].html).toContain('<html');
    expect(result.locales['pt-BR'].text).toContain('Olá Zoé <b>, o pedido A-1 está a caminho.');
    // service-provided variables preview too
    const withLink = draft();
    withLink.locales.en.html = '<p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p>';
    withLink.locales['pt-br'].html = '<p>{{name}}</p>';
    const linked = await preview({ template: withLink, data: { name: 'Ada', orderId: '1' } });
    expect(linked.json().locales.en.html).toContain('https://example.invalid/unsubscribe-link');

    expect(await stored()).toEqual(before);
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);
  });

  it('renders only the channels the draft declares', async () => {
    const inAppOnly = {
      channels: ['in_app'],
      defaultLocale: 'en',
      locales: { en: { inApp: { title: 'Hello {{name}}', body: 'Welcome' } } },
    };
    const response = await preview({ template: inAppOnly, data: { name: 'Grace' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      defaultLocale: 'en',
      channels: ['in_app'],
      locales: { en: { inApp: { title: 'Hello Grace', body: 'Welcome' } } },
    });
  });

  it('answers a part that does not compile, or a channel a locale lacks, with 422 naming it', async () => {
    const broken = draft();
    broken.locales['pt-br'].html = '<p>{{#if name}}Olá</p>';
    delete broken.locales.en.sms;
    const response = await preview({ template: broken, data: { name: 'Ada', orderId: '1' } });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'template_invalid' });
    expect(response.json().errors).toEqual(
      expect.arrayContaining([
        { field: '/body/template/locales/en', message: expect.stringContaining('sms') },
        { field: '/body/template/locales/pt-BR/html', message: expect.stringContaining('does not compile') },
      ]),
    );
  });

  it('answers data that does not fit the variables with 422 naming the variable', async () => {
    const response = await preview({ template: draft(), data: { name: 'Ada' } });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      code: 'template_data_invalid',
      errors: [{ field: '/body/data/orderId', message: expect.stringContaining('orderId') }],
    });
  });

  it('validates the body: unknown fields, no template, data not an object, no channel are 400', async () => {
    const cases: [string, Json][] = [
      ['unknown top-level field', { template: draft(), data: {}, key: 'x' }],
      ['unknown template field', { template: { ...draft(), version: 3 }, data: {} }],
      ['data not an object', { template: draft(), data: 'Ada' }],
      ['no template', { data: {} }],
      ['no channel', { template: { ...draft(), channels: [] }, data: {} }],
    ];
    for (const [what, body] of cases) {
      const response = await preview(body);
      expect({ what, status: response.statusCode }).toEqual({ what, status: 400 });
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('refuses a body over the size a save takes (1 MiB) with 413', async () => {
    const big = draft();
    big.locales.en.html = `<p>${'x'.repeat(1_100_000)}</p>`;
    const response = await preview({ template: big, data: { name: 'Ada', orderId: '1' } });
    expect(response.statusCode).toBe(413);
  });

  it('is for those who may save a template: a user 403, no token 401, a templates:read key 403, a templates:write key 200', async () => {
    const body = { template: draft(), data: { name: 'Ada', orderId: '1' } };
    expect((await preview(body, h.token('user-1'))).statusCode).toBe(403);
    expect((await preview(body, null)).statusCode).toBe(401);
    const reader = await h.createApiKey(['templates:read']);
    expect((await preview(body, reader.key)).statusCode).toBe(403);
    const writer = await h.createApiKey(['templates:write']);
    expect((await preview(body, writer.key)).statusCode).toBe(200);
  });

  it('is in the OpenAPI document, with its refusals', async () => {
    const document = (await h.request('GET', '/docs/json')).json();
    const operation = document.paths['/api/v1/templates/preview']?.post;
    expect(operation?.tags).toEqual(['templates']);
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '422']),
    );
  });
});
