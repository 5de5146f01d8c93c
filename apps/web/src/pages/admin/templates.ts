// Admin: templates — the list, an editor of the current version (its JSON),
// the versions, and a preview per locale and channel that re-renders as the
// sample data, locale, channel or version change. The API previews stored
// versions, so an edit shows in the preview once saved.
import { get, post, put, type Page } from '../../api';
import { field, h, notice, table, when } from '../../dom';

interface TemplateSummary {
  key: string;
  description?: string;
  channels: string[];
  locales: string[];
  version: number;
  updatedAt?: string;
}
interface Template {
  key: string;
  description?: string;
  channels: string[];
  defaultLocale: string;
  locales: Record<string, unknown>;
  variables?: unknown;
  version: number;
}
interface Preview {
  version: number;
  locale: string;
  subject?: string;
  text?: string;
  html?: string;
  sms?: string;
  inApp?: { title: string; body: string };
}
interface VersionSummary {
  version: number;
  locales: string[];
  createdBy: string;
  createdAt: string;
}

const SAMPLE = {
  channels: ['in_app', 'email'],
  defaultLocale: 'en',
  locales: {
    en: {
      subject: 'Hello {{name}}',
      html: '<p>Hello {{name}}</p>',
      inApp: { title: 'Hello {{name}}', body: 'Welcome' },
    },
  },
};

export function templatesPage(): HTMLElement {
  const result = notice();
  const list = h('div');
  const editor = h('div');
  const key = h('input', { name: 'key', required: true, pattern: '[a-z0-9][a-z0-9._\\-]*' });
  const create = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Create a template' } },
    field('New template key', key),
    h('button', { type: 'submit', className: 'primary', textContent: 'Create template' }),
  );
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    post('/api/v1/templates', { key: key.value, ...SAMPLE }).then(
      () => (open(key.value), create.reset(), drawList()),
      (error: Error) => result.say(error.message, 'error'),
    );
  });
  const open = (templateKey: string) =>
    openEditor(templateKey, editor, result.say).catch((error: Error) => result.say(error.message, 'error'));
  const drawList = async () => {
    const page = await get<Page<TemplateSummary>>('/api/v1/templates?limit=100');
    list.replaceChildren(
      table<TemplateSummary>(
        'Templates',
        [
          {
            label: 'Key',
            cell: (t) =>
              h('button', {
                type: 'button',
                className: 'link',
                textContent: t.key,
                on: { click: () => void open(t.key) },
              }),
          },
          { label: 'Channels', cell: (t) => t.channels.join(', ') },
          { label: 'Locales', cell: (t) => t.locales.join(', ') },
          { label: 'Version', cell: (t) => String(t.version) },
        ],
        page.items,
      ),
    );
  };
  drawList().catch((error: Error) => result.say(error.message, 'error'));
  return h('section', {}, h('h2', { textContent: 'Templates' }), create, result, list, editor);
}

async function openEditor(
  key: string,
  holder: HTMLElement,
  say: (text: string, kind?: 'ok' | 'error') => void,
): Promise<void> {
  const path = `/api/v1/templates/${encodeURIComponent(key)}`;
  let template = await get<Template>(path);
  const content = (t: Template) =>
    JSON.stringify(
      {
        description: t.description,
        channels: t.channels,
        defaultLocale: t.defaultLocale,
        locales: t.locales,
        variables: t.variables,
      },
      null,
      2,
    );
  const source = h('textarea', { rows: 18, spellcheck: false, value: content(template), className: 'code' });
  const save = h('button', { type: 'button', className: 'primary', textContent: 'Save new version' });
  const locale = h('select');
  const channel = h(
    'select',
    {},
    ...['email', 'sms', 'in_app'].map((c) => h('option', { value: c, textContent: c })),
  );
  const version = h('select');
  const data = h('textarea', { rows: 4, spellcheck: false, value: '{ "name": "Ada" }', className: 'code' });
  const output = h('div', { className: 'preview', attrs: { 'aria-live': 'polite' } });
  const versions = h('div');

  const fillSelectors = async () => {
    locale.replaceChildren(
      ...Object.keys(template.locales).map((l) => h('option', { value: l, textContent: l })),
    );
    const history = await get<Page<VersionSummary>>(`${path}/versions?limit=100`);
    version.replaceChildren(
      ...history.items.map((v) => h('option', { value: String(v.version), textContent: `v${v.version}` })),
    );
    version.value = String(template.version);
    versions.replaceChildren(
      table<VersionSummary>(
        'Versions',
        [
          { label: 'Version', cell: (v) => `v${v.version}` },
          { label: 'Locales', cell: (v) => v.locales.join(', ') },
          { label: 'By', cell: (v) => v.createdBy },
          { label: 'When', cell: (v) => when(v.createdAt) },
        ],
        history.items,
      ),
    );
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const preview = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void renderPreview(), 250);
  };
  const renderPreview = async () => {
    let sample: unknown;
    try {
      sample = JSON.parse(data.value);
    } catch {
      output.replaceChildren(
        h('p', { className: 'error', textContent: 'The sample data is not valid JSON' }),
      );
      return;
    }
    try {
      const shown = await post<Preview>(`${path}/preview`, {
        locale: locale.value,
        data: sample,
        version: Number(version.value),
      });
      output.replaceChildren(...previewOf(shown, channel.value));
    } catch (error) {
      output.replaceChildren(h('p', { className: 'error', textContent: (error as Error).message }));
    }
  };
  for (const control of [locale, channel, version]) control.addEventListener('change', preview);
  data.addEventListener('input', preview);

  save.addEventListener('click', () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(source.value) as Record<string, unknown>;
    } catch {
      say('The template is not valid JSON', 'error');
      return;
    }
    put<Template>(path, { ...body, baseVersion: template.version }).then(
      async (saved) => {
        template = saved;
        say(`Saved version ${saved.version}`);
        await fillSelectors();
        preview();
      },
      (error: Error) => say(error.message, 'error'),
    );
  });

  holder.replaceChildren(
    h(
      'div',
      { className: 'editor' },
      h('div', {}, h('h3', { textContent: `Edit ${key}` }), field('Template (JSON)', source), save, versions),
      h(
        'div',
        {},
        h('h3', { textContent: 'Preview' }),
        h(
          'div',
          { className: 'inline-form' },
          field('Locale', locale),
          field('Channel', channel),
          field('Version', version),
        ),
        field('Sample data (JSON)', data),
        output,
      ),
    ),
  );
  await fillSelectors();
  await renderPreview();
}

function previewOf(shown: Preview, channel: string): HTMLElement[] {
  const meta = h('p', { className: 'hint', textContent: `Version ${shown.version}, locale ${shown.locale}` });
  if (channel === 'email') {
    if (!shown.subject && !shown.html && !shown.text)
      return [meta, h('p', { textContent: 'This template has no email content.' })];
    // the rendered HTML in a sandbox: no scripts, no access to this page
    const frame = h('iframe', {
      title: 'Email preview',
      srcdoc: shown.html ?? `<pre>${(shown.text ?? '').replace(/</g, '&lt;')}</pre>`,
    });
    frame.setAttribute('sandbox', '');
    return [meta, h('p', {}, h('strong', { textContent: 'Subject: ' }), shown.subject ?? ''), frame];
  }
  if (channel === 'sms')
    return [
      meta,
      h('pre', { className: 'sms', textContent: shown.sms ?? 'This template has no SMS content.' }),
    ];
  return [
    meta,
    shown.inApp
      ? h(
          'div',
          { className: 'in-app' },
          h('strong', { textContent: shown.inApp.title }),
          h('p', { textContent: shown.inApp.body }),
        )
      : h('p', { textContent: 'This template has no in-app content.' }),
  ];
}
