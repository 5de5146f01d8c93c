import { waitFor } from '@herald/test-support';
import { CompiledTemplate } from '../src/templates/domain/compiled-template';
import { startHarness, type Harness, type Json } from './harness';

describe('sending with a template', () => {
  let h: Harness;
  const admin = () => h.token('admin-1', 'admin');

  beforeAll(async () => {
    // Broadcast batches of 2: the fan-out takes several rounds, each picking stored variants.
    h = await startHarness('notif-templates-send', { settings: { broadcastBatchSize: 2 } });
    const created = await h.request('POST', '/api/v1/templates', { token: admin(), body: shipping });
    expect(created.statusCode).toBe(201);
  });
  afterAll(() => h.close());

  const shipping: Json = {
    key: 'shipping',
    channels: ['in_app', 'email', 'sms'],
    defaultLocale: 'en',
    variables: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1 },
        orderId: { type: 'string' },
        total: { type: 'number' },
        link: { type: 'string' },
      },
      required: ['name', 'orderId', 'total'],
    },
    locales: {
      en: {
        subject: 'Order {{orderId}} shipped',
        html: '<h1>Hi {{name}}</h1><p>Order {{orderId}} ({{formatCurrency total "EUR"}}) is on its way.</p>{{#if link}}{{> button url=link label="Track it"}}{{/if}}',
        sms: 'Hi {{name}}, order {{orderId}} shipped.',
        inApp: { title: 'Order {{orderId}} shipped', body: '{{name}}, it is on its way.' },
      },
      pt: {
        subject: 'Pedido {{orderId}} enviado',
        html: '<p>Olá {{name}}, pedido {{orderId}} ({{formatCurrency total "EUR"}}).</p>',
        text: 'Olá {{name}}, o pedido {{orderId}} foi enviado.',
        sms: 'Olá {{name}}, pedido {{orderId}} enviado.',
        inApp: { title: 'Pedido {{orderId}} enviado', body: '{{name}}, está a caminho.' },
      },
      fr: {
        subject: 'Commande {{orderId}} expédiée',
        html: '<p>Bonjour {{name}}, commande {{orderId}}.</p>',
        sms: 'Bonjour {{name}}, commande {{orderId}} expédiée.',
        inApp: { title: 'Commande {{orderId}} expédiée', body: '{{name}}, elle est en route.' },
      },
    },
  };

  const send = (body: Json, token = admin()) => h.request('POST', '/api/v1/notifications', { token, body });
  const record = (id: string): Promise<Json> => h.models.notifications.findById(id).lean();
  const jobFor = async (queue: string, id: string): Promise<Json> => {
    const seen: Json[] = [];
    return waitFor(
      async () => {
        seen.push(...(await h.drain(queue)));
        return seen.find((job) => job.payload.notificationId === id);
      },
      { description: `the job of ${id} on ${queue}` },
    );
  };

  it('renders every requested channel, stores what it rendered, and puts exactly that in the jobs', async () => {
    const user = await h.registerUser({ locale: 'pt-BR', phone: '+14155550199' });
    const response = await send({
      recipient: { userId: user.userId },
      channels: ['in_app', 'email', 'sms'],
      template: { key: 'shipping', data: { name: 'Zoé', orderId: 'A-7', total: 1234.5 } },
    });
    expect(response.statusCode).toBe(202);
    const { id } = response.json();

    const stored = await record(id);
    // The user's pt-BR has no variant: its language pt has.
    expect(stored.template).toEqual({
      key: 'shipping',
      version: 1,
      locale: 'pt',
      data: { name: 'Zoé', orderId: 'A-7', total: 1234.5 },
    });
    expect(stored.locale).toBe('pt');
    expect(stored.rendered.inApp).toEqual({ title: 'Pedido A-7 enviado', body: 'Zoé, está a caminho.' });
    expect(stored.rendered.sms).toBe('Olá Zoé, pedido A-7 enviado.');
    expect(stored.rendered.email).toMatchObject({
      subject: 'Pedido A-7 enviado',
      text: 'Olá Zoé, o pedido A-7 foi enviado.',
    });
    // Formatted for the variant's locale (Intl's own answer, so the test does not depend on the ICU version).
    const euros = new Intl.NumberFormat('pt', { style: 'currency', currency: 'EUR' }).format(1234.5);
    expect(stored.rendered.email.html).toContain(`Olá Zoé, pedido A-7 (${euros}).`);
    expect([stored.title, stored.body]).toEqual(['Pedido A-7 enviado', 'Zoé, está a caminho.']);

    const email = await jobFor(h.names.queues.work.email, id);
    expect(email.payload.content).toEqual(stored.rendered.email);
    expect(email.payload.template).toMatchObject({ key: 'shipping', version: 1, locale: 'pt' });
    const sms = await jobFor(h.names.queues.work.sms, id);
    expect(sms.payload.content).toEqual({ text: stored.rendered.sms, sms: stored.rendered.sms });

    const inbox = await h.request('GET', '/api/v1/notifications', { token: h.token(user.userId) });
    expect(inbox.json().items[0]).toMatchObject({
      id,
      title: 'Pedido A-7 enviado',
      body: 'Zoé, está a caminho.',
    });
    const detail = await h.request('GET', `/api/v1/notifications/${id}`, { token: admin() });
    expect(detail.json()).toMatchObject({
      template: { key: 'shipping', version: 1, locale: 'pt' },
      locale: 'pt',
      rendered: { sms: 'Olá Zoé, pedido A-7 enviado.' },
    });
  });

  it('resolves the locale: the request’s, then the user’s, each with its region fallback, then the default', async () => {
    const brazilian = await h.registerUser({ locale: 'pt-BR' });
    const unspecified = await h.registerUser();
    const data = { name: 'Ada', orderId: 'L-1', total: 1 };
    const cases = [
      { user: brazilian, locale: undefined, expected: 'pt' },
      { user: brazilian, locale: 'FR-ca', expected: 'fr' },
      { user: brazilian, locale: 'de-AT', expected: 'pt' },
      { user: unspecified, locale: 'es', expected: 'en' },
      { user: unspecified, locale: undefined, expected: 'en' },
    ];
    for (const { user, locale, expected } of cases) {
      const response = await send(
        {
          recipient: { userId: user.userId },
          channels: ['in_app'],
          template: { key: 'shipping', data },
          ...(locale ? { locale } : {}),
        },
        h.token(user.userId),
      );
      expect(response.statusCode).toBe(202);
      const stored = await record(response.json().id);
      expect({ userLocale: user.locale, locale, used: stored.locale }).toEqual({
        userLocale: user.locale,
        locale,
        used: expected,
      });
      expect(stored.template.locale).toBe(expected);
    }
  });

  it('escapes data in the html it sends, keeps the SMS plain, and inlines the CSS', async () => {
    const user = await h.registerUser({ phone: '+14155550198' });
    const response = await send({
      recipient: { userId: user.userId },
      channels: ['email', 'sms'],
      template: {
        key: 'shipping',
        data: {
          name: '<script>alert("x")</script>',
          orderId: '<img src=x onerror=alert(1)>',
          total: 5,
          link: 'https://shop.example/track?o=1&p=2',
        },
      },
    });
    expect(response.statusCode).toBe(202);
    const { id } = response.json();
    const { html, text } = (await jobFor(h.names.queues.work.email, id)).payload.content;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toMatch(
      /<a class="button" href="https:\/\/shop\.example\/track\?o=1&amp;p=2" style="[^"]*background-color: #1a56db/,
    );
    // en has no text part: generated from the html, the link kept.
    expect(text).toContain('Track it [https://shop.example/track?o=1&p=2]');
    const { sms } = (await jobFor(h.names.queues.work.sms, id)).payload.content;
    expect(sms).toBe('Hi alert("x"), order  shipped.');
    expect(sms).not.toMatch(/[<>]/);
  });

  it('answers 422 naming a missing variable, and stores nothing', async () => {
    const before = await h.models.notifications.countDocuments();
    const user = await h.registerUser();
    const missing = await send({
      recipient: { userId: user.userId },
      channels: ['email'],
      template: { key: 'shipping', data: { orderId: 'M-1', total: 1 } },
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json()).toMatchObject({
      status: 422,
      code: 'template_data_invalid',
      errors: [{ field: '/body/template/data/name', message: expect.stringContaining('name') }],
    });

    // A variable the template uses but its schema does not list: strict rendering names it too.
    await h.request('PATCH', '/api/v1/templates/shipping', {
      token: admin(),
      body: {
        locales: { fr: { ...shipping.locales.fr, sms: 'Bonjour {{name}}, suivi : {{trackingCode}}' } },
      },
    });
    const byPhone = await send({
      recipient: { phone: '+14155550197' },
      channels: ['sms'],
      locale: 'fr',
      template: { key: 'shipping', data: { name: 'Ada', orderId: 'M-2', total: 1 } },
    });
    expect(byPhone.statusCode).toBe(422);
    expect(byPhone.json()).toMatchObject({
      code: 'template_variable_missing',
      errors: [{ field: '/body/template/data/trackingCode', message: expect.stringContaining('fr sms') }],
    });
    expect(await h.models.notifications.countDocuments()).toBe(before);
  });

  it('refuses a channel the template has no content for, an unknown template, and template with title', async () => {
    await h.request('POST', '/api/v1/templates', {
      token: admin(),
      body: {
        key: 'email-only',
        channels: ['email'],
        defaultLocale: 'en',
        locales: { en: { subject: 'x', text: 'y' } },
      },
    });
    const channel = await send({
      recipient: { email: 'a@example.org' },
      channels: ['email'],
      template: { key: 'email-only', data: {} },
    });
    expect(channel.statusCode).toBe(202);
    const noSms = await send({
      recipient: { phone: '+14155550196' },
      channels: ['sms'],
      template: { key: 'email-only', data: {} },
    });
    expect(noSms.statusCode).toBe(422);
    expect(noSms.json()).toMatchObject({
      code: 'template_channel_missing',
      errors: [{ field: '/body/channels/0', message: 'template "email-only" has no sms content' }],
    });

    const unknown = await send({
      recipient: { email: 'a@example.org' },
      channels: ['email'],
      template: { key: 'no-such-template', data: {} },
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({
      code: 'template_not_found',
      errors: [{ field: '/body/template/key' }],
    });

    const both = await send({
      recipient: { email: 'a@example.org' },
      channels: ['email'],
      title: 'Literal',
      template: { key: 'email-only', data: {} },
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors).toEqual([
      { field: '/body/title', message: 'cannot be combined with a template' },
    ]);

    const neither = await send({ recipient: { email: 'a@example.org' }, channels: ['email'] });
    expect(neither.statusCode).toBe(400);
    expect(neither.json().errors.map((error: Json) => error.field)).toEqual(
      expect.arrayContaining(['/body/title', '/body/body', '/body/template']),
    );
  });

  it('records the version each notification used: an edit makes v2, the earlier notification keeps v1', async () => {
    await h.request('POST', '/api/v1/templates', {
      token: admin(),
      body: {
        key: 'digest',
        channels: ['email'],
        defaultLocale: 'en',
        variables: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
        locales: { en: { subject: '{{count}} updates', text: 'You have {{count}} updates.' } },
      },
    });
    const body = {
      recipient: { email: 'digest@example.org' },
      channels: ['email'],
      template: { key: 'digest', data: { count: 3 } },
    };
    const first = (await send(body)).json().id;
    const edited = await h.request('PATCH', '/api/v1/templates/digest', {
      token: admin(),
      body: { locales: { en: { subject: 'Digest: {{count}} new', text: '{{count}} new things.' } } },
    });
    expect(edited.json().version).toBe(2);
    // This instance sees its own edit at once (the cache is invalidated); others within the TTL.
    const second = (await send(body)).json().id;

    const [one, two] = [await record(first), await record(second)];
    expect([one.template.version, one.rendered.email.subject]).toEqual([1, '3 updates']);
    expect([two.template.version, two.rendered.email.subject]).toEqual([2, 'Digest: 3 new']);
    const versions = await h.request('GET', '/api/v1/templates/digest/versions', { token: admin() });
    expect(versions.json().items.map((item: Json) => item.version)).toEqual([2, 1]);
    const v1 = await h.request('GET', '/api/v1/templates/digest/versions/1', { token: admin() });
    expect(v1.json().locales.en.subject).toBe('{{count}} updates');
  });

  it('broadcasts a template rendered once per locale, each recipient in their language', async () => {
    const users = [
      await h.registerUser({ locale: 'fr', role: 'admin' }),
      await h.registerUser({ locale: 'pt-PT', role: 'admin' }),
      await h.registerUser({ locale: 'ja', role: 'admin' }),
      await h.registerUser({ locale: 'fr-BE', role: 'admin' }),
      await h.registerUser({ role: 'admin' }),
    ];
    const renders = jest.spyOn(CompiledTemplate.prototype, 'render');
    try {
      const response = await h.request('POST', '/api/v1/notifications/broadcast', {
        token: admin(),
        body: {
          audience: { role: 'admin' },
          channels: ['in_app'],
          template: { key: 'shipping', data: { name: 'team', orderId: 'B-1', total: 0 } },
        },
      });
      expect(response.statusCode).toBe(202);
      const { id } = response.json();
      await waitFor(
        async () =>
          (await h.request('GET', `/api/v1/notifications/broadcast/${id}`, { token: admin() })).json()
            .state === 'completed',
        { description: 'the broadcast to complete' },
      );
      // One render per locale of the template (en, pt, fr), whatever the number of recipients.
      expect(renders).toHaveBeenCalledTimes(3);
      const records = await h.models.notifications.find({ broadcastId: id }).lean<Json[]>();
      const byUser = Object.fromEntries(records.map((item) => [item.userId, [item.locale, item.title]]));
      expect(users.map((user) => byUser[user.userId])).toEqual([
        ['fr', 'Commande B-1 expédiée'],
        ['pt', 'Pedido B-1 enviado'],
        ['en', 'Order B-1 shipped'],
        ['fr', 'Commande B-1 expédiée'],
        ['en', 'Order B-1 shipped'],
      ]);
      expect(records[0].template).toMatchObject({ key: 'shipping', version: expect.any(Number) });
    } finally {
      renders.mockRestore();
    }
  });

  it('refuses a broadcast whose data does not fit, before accepting it', async () => {
    const response = await h.request('POST', '/api/v1/notifications/broadcast', {
      token: admin(),
      body: {
        audience: { all: true },
        channels: ['in_app'],
        template: { key: 'shipping', data: { name: 'x' } },
      },
    });
    expect(response.statusCode).toBe(422);
    expect(
      response
        .json()
        .errors.map((error: Json) => error.field)
        .sort(),
    ).toEqual(['/body/template/data/orderId', '/body/template/data/total']);
  });
});
