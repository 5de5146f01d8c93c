import { TemplateCache } from '../src/templates/domain/cache';
import { checkTemplate } from '../src/templates/domain/compile';
import { CompiledTemplate } from '../src/templates/domain/compiled-template';
import { type TemplateContent } from '../src/templates/domain/content';
import { createTemplateEngine, plainSms } from '../src/templates/domain/engine';
import { UnprocessableFieldsError } from '../src/templates/domain/errors';
import { resolveLocale } from '../src/templates/domain/locale';
import { SYSTEM_TEMPLATES } from '../src/templates/domain/system';
import { createVariablesCompiler } from '../src/templates/domain/variables';

/* The pure rendering code, without HTTP or a database. */

const engine = createTemplateEngine();
const variables = createVariablesCompiler();
const DATA = '/body/template/data';

function compiled(content: Partial<TemplateContent> & Pick<TemplateContent, 'locales'>, version = 1) {
  const full: TemplateContent = {
    channels: ['email'],
    defaultLocale: 'en',
    variables: { type: 'object' },
    ...content,
  };
  const checked = checkTemplate(engine, variables, full);
  expect(checked.errors).toEqual([]);
  return new CompiledTemplate(engine, variables, 'test', version, checked.content);
}

function render(template: CompiledTemplate, data: Record<string, unknown>, locale = 'en') {
  const prepared = template.prepareData(data, DATA);
  return template.render(locale, prepared, template.channels, DATA);
}

function renderError(run: () => unknown): UnprocessableFieldsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UnprocessableFieldsError);
    return error as UnprocessableFieldsError;
  }
  throw new Error('expected a render error');
}

describe('locale resolution', () => {
  const available = ['en', 'pt', 'fr-CA', 'zh-Hant'];

  it('falls back from a region to its language, then to the default', () => {
    expect(resolveLocale(available, ['pt-BR'], 'en')).toBe('pt');
    expect(resolveLocale(available, ['pt'], 'en')).toBe('pt');
    expect(resolveLocale(available, ['de-AT'], 'en')).toBe('en');
    expect(resolveLocale(available, [], 'en')).toBe('en');
    expect(resolveLocale(available, ['zh-Hant-TW'], 'en')).toBe('zh-Hant');
  });

  it('prefers the request locale, then the user locale, each with its fallback, before the default', () => {
    expect(resolveLocale(available, ['fr-CA', 'pt-BR'], 'en')).toBe('fr-CA');
    // The request's de has no variant (nor its language): the user's pt-BR → pt comes next.
    expect(resolveLocale(available, ['de', 'pt-BR'], 'en')).toBe('pt');
    expect(resolveLocale(available, [undefined, 'pt-PT'], 'en')).toBe('pt');
    expect(resolveLocale(available, ['ja', 'ko'], 'en')).toBe('en');
  });

  it('matches case-insensitively and answers the variant’s own tag', () => {
    expect(resolveLocale(available, ['FR-ca'], 'en')).toBe('fr-CA');
    expect(resolveLocale(available, ['PT-br'], 'en')).toBe('pt');
  });
});

describe('rendering', () => {
  it('escapes data in html, so a <script> from data arrives as text', () => {
    const template = compiled({
      locales: { en: { subject: 'Hi {{name}}', html: '<p>Hello {{name}}</p><a href="{{link}}">go</a>' } },
    });
    const { email } = render(template, {
      name: '<script>alert(1)</script>',
      link: '"><img src=x onerror=alert(1)>',
    });
    expect(email!.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email!.html).not.toContain('<script>');
    expect(email!.html).toContain('href="&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;"');
    // The subject is a plain-text header: not HTML-escaped.
    expect(email!.subject).toBe('Hi <script>alert(1)</script>');
  });

  it('keeps SMS plain text: markup from data is stripped, markup in the template refused', () => {
    const template = compiled({
      channels: ['sms'],
      locales: { en: { sms: 'Code for {{name}}: {{code}} (a < b > c)' } },
    });
    const { sms } = render(template, { name: '<b>Ada</b><script>x()</script>', code: '42<!-- hidden -->' });
    expect(sms).toBe('Code for Adax(): 42 (a < b > c)');
    expect(sms).not.toMatch(/<\/?[a-z]/i);
    expect(plainSms('<p>one</p>\n<br/>two')).toBe('one\ntwo');

    const refused = checkTemplate(engine, variables, {
      channels: ['sms'],
      defaultLocale: 'en',
      variables: { type: 'object' },
      locales: { en: { sms: '<b>Hi</b> {{name}}' } },
    });
    expect(refused.errors).toEqual([
      { field: '/body/locales/en/sms', message: expect.stringContaining('contains markup') },
    ]);
  });

  it('refuses {{{raw}}} in html: data would be inserted unescaped', () => {
    const { errors } = checkTemplate(engine, variables, {
      channels: ['email'],
      defaultLocale: 'en',
      variables: { type: 'object' },
      locales: { en: { subject: 'x', html: '<p>{{{name}}}</p>', text: '{{{name}}} is fine in text' } },
    });
    expect(errors).toEqual([
      { field: '/body/locales/en/html', message: expect.stringContaining('unescaped') },
    ]);
  });

  it('names a variable the template uses but the data lacks (strict mode)', () => {
    const template = compiled({
      locales: {
        en: { subject: 'Order {{order.id}}', text: 'Total: {{order.total}}' },
        fr: { subject: 'Commande {{order.id}}', text: 'Bonjour {{firstName}}' },
      },
    });
    const nested = renderError(() => render(template, { order: { id: 'o-1' } }));
    expect(nested.status).toBe(422);
    expect(nested.code).toBe('template_variable_missing');
    expect(nested.errors).toEqual([
      { field: '/body/template/data/order/total', message: expect.stringContaining('(en text)') },
    ]);
    const top = renderError(() => render(template, { order: { id: 'o-1' } }, 'fr'));
    expect(top.errors[0]!.field).toBe('/body/template/data/firstName');
  });

  it('names the missing parent of a nested path in a helper argument, without JS internals', () => {
    const template = compiled({
      locales: {
        en: { subject: 'Order', text: 'Thanks{{#if order.coupon}} — {{order.coupon}} applied{{/if}}' },
      },
    });
    // Strict mode does not check parents in helper arguments: `order` missing is a TypeError inside.
    const error = renderError(() => render(template, {}));
    expect(error.status).toBe(422);
    expect(error.code).toBe('template_variable_missing');
    expect(error.errors).toEqual([
      { field: '/body/template/data/order', message: expect.stringContaining('(en text)') },
    ]);
    expect(error.message).not.toMatch(/Cannot read properties/);
    // With the parent present, an absent child is falsy for #if, as a user expects.
    expect(render(template, { order: {} }).email!.text).toBe('Thanks');
  });

  it('checks data against the variables schema, naming each missing or invalid variable', () => {
    const template = compiled({
      variables: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          count: { type: 'integer', minimum: 1 },
          note: { type: 'string' },
        },
        required: ['name', 'count'],
      },
      locales: { en: { subject: 'Hi {{name}}', text: '{{count}} new{{#if note}} — {{note}}{{/if}}' } },
    });
    const error = renderError(() => template.prepareData({ count: 0 }, DATA));
    expect(error.code).toBe('template_data_invalid');
    expect(error.errors.map((entry) => entry.field).sort()).toEqual([
      '/body/template/data/count',
      '/body/template/data/name',
    ]);
    // A declared optional variable may be absent: it renders empty, strict mode does not trip.
    expect(render(template, { name: 'Ada', count: 2 }).email!.text).toBe('2 new');
  });

  it('wraps html in the shared layout and inlines its CSS with juice', () => {
    const template = compiled({
      locales: {
        en: { subject: 'Hi', html: '<p>Hello</p>{{> button url=link label="Open"}}' },
      },
    });
    const { html } = render(template, { link: 'https://herald.example/a?b=1&c=2' }).email!;
    expect(render(template, { link: 'javascript:alert(1)' }).email!.html).toContain('href="#"');
    expect(html).toMatch(/^<!doctype html>/i);
    // The layout's `.button { … }` rule is now on the element, and `p { … }` on each paragraph.
    expect(html).toMatch(
      /<a class="button" href="https:\/\/herald\.example\/a\?b=1&amp;c=2" style="[^"]*display: inline-block;/,
    );
    expect(html).toMatch(/<p style="[^"]*line-height: 1\.5;[^"]*">Hello<\/p>/);
    // Rules that cannot be inlined stay in <style>; the inlined ones are gone from it.
    expect(html).toContain('@media only screen and (max-width: 620px)');
    expect(html).not.toContain('.button {');
    expect(html).toContain('<div class="footer"');
  });

  it('keeps a safeUrl link intact in plain parts and attribute-escaped only in html', () => {
    const template = compiled({
      channels: ['email', 'sms', 'in_app'],
      locales: {
        en: {
          subject: 'Your link',
          text: 'Open {{safeUrl link}}',
          html: '<a href="{{safeUrl link}}">Open</a>',
          sms: 'Open {{safeUrl link}}',
          inApp: { title: 'Your link', body: 'Open {{safeUrl link}}' },
        },
      },
    });
    const link = "https://herald.example/a?b=1&c='2'";
    const { email, sms, inApp } = render(template, { link });
    expect(email!.text).toBe(`Open ${link}`);
    expect(sms).toBe(`Open ${link}`);
    expect(inApp!.body).toBe(`Open ${link}`);
    expect(email!.html).toContain('href="https://herald.example/a?b=1&amp;c=&#39;2&#39;"');
    // The scheme check holds in every part.
    expect(render(template, { link: 'javascript:alert(1)' }).sms).toBe('Open #');
  });

  it('generates the plain-text part from the html when a locale has no text', () => {
    const template = compiled({
      locales: {
        en: {
          subject: 'Hi',
          html: '<h1>Welcome {{name}}</h1><p>Your <b>account</b> is ready.</p>{{> button url=link label="Open Herald"}}',
        },
        de: { subject: 'Hallo', html: '<p>Hallo {{name}}</p>', text: 'Eigener Text für {{name}}' },
      },
    });
    const { text, html } = render(template, { name: 'Ada', link: 'https://herald.example/app' }).email!;
    expect(html).toContain('<b>account</b>');
    expect(text).toContain('WELCOME ADA');
    expect(text).toContain('Your account is ready.');
    expect(text).toContain('Open Herald [https://herald.example/app]');
    expect(text).toContain('Sent by Herald.');
    expect(text).not.toMatch(/<[a-z]/i);
    expect(render(template, { name: 'Ada', link: 'x' }, 'de').email!.text).toBe('Eigener Text für Ada');
  });

  it('formats dates, numbers and currencies for the resolved locale', () => {
    const template = compiled({
      locales: Object.fromEntries(
        ['en', 'de', 'fr'].map((locale) => [
          locale,
          {
            subject: 's',
            text: '{{formatDate at dateStyle="long" timeZone="Europe/Berlin"}}|{{formatNumber n}}|{{formatCurrency total "EUR"}}',
          },
        ]),
      ),
    });
    const data = { at: '2025-03-31T23:30:00Z', n: 1234567.891, total: 1234.5 };
    const [en, de, fr] = ['en', 'de', 'fr'].map((locale) => render(template, data, locale).email!.text);
    expect(en).toBe('April 1, 2025|1,234,567.891|€1,234.50');
    expect(de!.replace(/\s/g, ' ')).toBe('1. April 2025|1.234.567,891|1.234,50 €');
    expect(fr!.replace(/\s/g, ' ')).toBe('1 avril 2025|1 234 567,891|1 234,50 €');

    const bad = renderError(() => render(template, { ...data, at: 'yesterday' }));
    expect(bad.code).toBe('template_render_failed');
    expect(bad.detail).toContain('formatDate: yesterday is not a date');
  });

  it('names the part (locale + field) and the error of a template that does not compile', () => {
    const { errors } = checkTemplate(engine, variables, {
      channels: ['email', 'in_app'],
      defaultLocale: 'en',
      variables: { type: 'object' },
      locales: {
        en: { subject: 'ok', text: 'ok', inApp: { title: 'ok', body: 'ok' } },
        fr: {
          subject: 'ok',
          html: '<p>{{#if name}}unclosed</p>',
          inApp: { title: '{{shout name}}', body: '{{> footer}}' },
        },
      },
    });
    expect(errors).toEqual([
      {
        field: '/body/locales/fr/html',
        message: expect.stringMatching(/^does not compile: Parse error on line 1/),
      },
      { field: '/body/locales/fr/inApp/title', message: expect.stringContaining('unknown helper "shout"') },
      {
        field: '/body/locales/fr/inApp/body',
        message: expect.stringContaining('partials are for html only'),
      },
    ]);
  });

  it('refuses a locale that lacks what a declared channel needs, and a bad variables schema', () => {
    const { errors } = checkTemplate(engine, variables, {
      channels: ['email', 'sms'],
      defaultLocale: 'es',
      variables: { type: 'object', properties: { name: { type: 'strng' } } },
      locales: { en: { subject: 'x', html: '<p>x</p>', sms: 'x' }, de: { text: 'x' } },
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: '/body/defaultLocale', message: 'has no variant in locales (es)' },
        { field: '/body/locales/de', message: 'has no subject, which the email channel needs' },
        { field: '/body/locales/de', message: 'has no sms, which the sms channel needs' },
        { field: '/body/variables', message: expect.stringContaining('is not a usable JSON Schema') },
      ]),
    );
  });

  it('keeps prototype access blocked', () => {
    const template = compiled({ locales: { en: { subject: 's', text: '[{{constructor}}]' } } });
    expect(render(template, {}).email!.text).toBe('[]');
  });

  it('ships system templates that compile, in English, French, German and Spanish', () => {
    for (const definition of SYSTEM_TEMPLATES) {
      const { errors, content } = checkTemplate(engine, variables, definition.content);
      expect({ key: definition.key, errors }).toEqual({ key: definition.key, errors: [] });
      expect(Object.keys(content.locales).sort()).toEqual(['de', 'en', 'es', 'fr']);
    }
  });
});

describe('the template cache', () => {
  function setup(ttlMs: number) {
    let clock = 0;
    let head = 1;
    const loads = { head: 0, version: 0, built: 0 };
    const content = (version: number): TemplateContent => ({
      channels: ['email'],
      defaultLocale: 'en',
      variables: { type: 'object' },
      locales: { en: { subject: `v${version}`, text: 'x' } },
    });
    const cache = new TemplateCache({
      ttlMs,
      maxVersions: 2,
      now: () => clock,
      build: (key, version, stored) => {
        loads.built += 1;
        return new CompiledTemplate(engine, variables, key, version, stored);
      },
      loader: {
        head: async () => {
          loads.head += 1;
          return { version: head, content: content(head) };
        },
        version: async (_key, version) => {
          loads.version += 1;
          return content(version);
        },
      },
    });
    return {
      cache,
      loads,
      advance: (ms: number) => (clock += ms),
      edit: () => (head += 1),
    };
  }

  it('reads the head once per TTL and compiles each version once', async () => {
    const { cache, loads, advance, edit } = setup(5_000);
    const first = await Promise.all(Array.from({ length: 50 }, () => cache.current('k')));
    expect(new Set(first).size).toBe(1);
    expect(loads).toEqual({ head: 1, version: 0, built: 1 });

    // Another instance edits: this one keeps sending v1 until its TTL is over, then sees v2.
    edit();
    advance(4_999);
    expect((await cache.current('k'))!.version).toBe(1);
    advance(1);
    expect((await cache.current('k'))!.version).toBe(2);
    expect(loads).toEqual({ head: 2, version: 0, built: 2 });

    // An old version is compiled from the history once, then served from memory.
    await cache.atVersion('k', 1);
    expect(loads.version).toBe(0);
    await cache.atVersion('k', 3);
    await cache.atVersion('k', 3);
    expect(loads.version).toBe(1);
  });

  it('sees an edit made on this instance at once (invalidate)', async () => {
    const { cache, edit } = setup(60_000);
    expect((await cache.current('k'))!.version).toBe(1);
    edit();
    cache.invalidate('k');
    expect((await cache.current('k'))!.version).toBe(2);
  });
});
