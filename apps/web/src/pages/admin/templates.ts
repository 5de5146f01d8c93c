// Admin: templates — the list, an editor of the current version (its JSON),
// the versions, and a preview per locale and channel. The preview follows the
// editor as the admin types (the unsaved draft, rendered by
// POST /api/v1/templates/preview, debounced), or shows a stored version.
import { explain, get, post, put, type Page } from '../../api';
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
interface Rendered {
  subject?: string;
  text?: string;
  html?: string;
  sms?: string;
  inApp?: { title: string; body: string };
}
interface DraftPreview {
  defaultLocale: string;
  locales: Record<string, Rendered>;
}
interface Preview {
  /** a stored version, or the editor's unsaved content */
  version: number | 'draft';
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

  const DRAFT = 'draft';
  const fillLocales = (locales: string[]) => {
    const chosen = locale.value;
    locale.replaceChildren(...locales.map((l) => h('option', { value: l, textContent: l })));
    if (locales.includes(chosen)) locale.value = chosen;
  };
  const fillSelectors = async () => {
    fillLocales(Object.keys(template.locales));
    const history = await get<Page<VersionSummary>>(`${path}/versions?limit=100`);
    const chosen = version.value;
    version.replaceChildren(
      h('option', { value: DRAFT, textContent: 'Unsaved draft (the editor)' }),
      ...history.items.map((v) => h('option', { value: String(v.version), textContent: `v${v.version}` })),
    );
    version.value = chosen || DRAFT;
    if (!version.value) version.value = DRAFT; // that version is gone from the list
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
  /** debounced: one request once the typing pauses, not one per key */
  const preview = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void renderPreview(), 300);
  };
  // only the newest request's answer is drawn, whatever order the answers come in
  let latest = 0;
  const problem = (text: string) => output.replaceChildren(h('p', { className: 'error', textContent: text }));
  const renderDraft = async (sample: Record<string, unknown>, ticket: number) => {
    let draft: unknown;
    try {
      draft = JSON.parse(source.value);
    } catch {
      return problem('The template is not valid JSON');
    }
    const shown = await post<DraftPreview>('/api/v1/templates/preview', { template: draft, data: sample });
    if (ticket !== latest) return;
    const locales = Object.keys(shown.locales);
    fillLocales(locales);
    const chosen = shown.locales[locale.value] ? locale.value : shown.defaultLocale;
    output.replaceChildren(
      ...previewOf({ version: 'draft', locale: chosen, ...shown.locales[chosen] }, channel.value),
    );
  };
  const renderPreview = async () => {
    const ticket = ++latest;
    let sample: Record<string, unknown>;
    try {
      sample = JSON.parse(data.value) as Record<string, unknown>;
    } catch {
      return problem('The sample data is not valid JSON');
    }
    try {
      if (version.value === DRAFT) return await renderDraft(sample, ticket);
      const shown = await post<Preview>(`${path}/preview`, {
        locale: locale.value,
        data: sample,
        version: Number(version.value),
      });
      if (ticket === latest) output.replaceChildren(...previewOf(shown, channel.value));
    } catch (error) {
      if (ticket === latest) problem(explain(error));
    }
  };
  for (const control of [locale, channel, version]) control.addEventListener('change', preview);
  data.addEventListener('input', preview);
  source.addEventListener('input', () => version.value === DRAFT && preview());

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
      (error: Error) => say(explain(error), 'error'),
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
  const meta = h('p', {
    className: 'hint',
    textContent: `${shown.version === 'draft' ? 'Unsaved draft' : `Version ${shown.version}`}, locale ${shown.locale}`,
  });
  if (channel === 'email') {
    if (!shown.subject && !shown.html && !shown.text)
      return [meta, h('p', { textContent: 'This template has no email content.' })];
    return [
      meta,
      h('p', {}, h('strong', { textContent: 'Subject: ' }), shown.subject ?? ''),
      emailFrame(shown),
    ];
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

/**
 * The rendered email in a frame of its own: /email-preview.html, sandboxed (its script runs in an
 * opaque origin with no access to this page) and under its own Content-Security-Policy, which
 * lets the email's inline styles show while this page allows none. It gets the HTML by message.
 */
function emailFrame(shown: Preview): HTMLIFrameElement {
  const html = shown.html ?? `<pre>${(shown.text ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre>`;
  const frame = h('iframe', { title: 'Email preview', src: '/email-preview.html' });
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.addEventListener('load', () => frame.contentWindow?.postMessage({ html }, '*'), { once: true });
  return frame;
}
