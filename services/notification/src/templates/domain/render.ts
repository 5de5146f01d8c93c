import { AppError, NotFoundError } from '@herald/runtime';
import { type Channel, type TemplateRef } from '@herald/contracts';
import { checkTemplate } from './compile';
import { EMPTY_VARIABLES } from './content';
import { checkedContent } from './store';
import { CompiledTemplate } from './compiled-template';
import { UnprocessableFieldsError } from './errors';
import { type RenderedChannels } from '../data/content-types';
import { type DraftPreview, type DraftPreviewRequest, type Preview, type PreviewRequest } from './types';
import { type Templates } from './service';
import { type SystemTemplate } from './system';

/*
 * Rendering happens here, in the notification service, when a notification
 * is accepted, not in the worker: a missing variable must be a 422 on the
 * request (which needs the template at hand anyway); the content stored on
 * the notification is then the record of exactly what was sent; the worker
 * stays a channel sender with no template store; preview runs the same
 * code. Templates come from the in-process cache (see cache.ts), so a send
 * does not read MongoDB for its template.
 */

export interface RenderRequest {
  key: string;
  data: Record<string, unknown>;
  /** the request's locale, then the recipient's; the template's default closes the chain */
  preferences: readonly (string | undefined | null)[];
  channels: readonly Channel[];
  /** JSON pointers for errors: the data, the template key, the channel list */
  pointers: { data: string; key: string; channels: string };
  /**
   * Variables the service provides beside the sender's data (`unsubscribeUrl`,
   * `preferencesUrl`), set after the data's check: a template's variables
   * schema need not declare them, and a sender cannot override them.
   */
  provided?: Record<string, string>;
}

export interface RenderedSend {
  template: TemplateRef & { version: number; locale: string };
  content: RenderedChannels;
}

async function currentTemplate(t: Templates, request: RenderRequest): Promise<CompiledTemplate> {
  const compiled = await t.cache.current(request.key);
  if (!compiled) {
    throw new UnprocessableFieldsError('template_not_found', `No template "${request.key}"`, [
      { field: request.pointers.key, message: 'names no template' },
    ]);
  }
  const missing = request.channels.flatMap((channel, index) =>
    compiled.channels.includes(channel)
      ? []
      : [
          {
            field: `${request.pointers.channels}/${index}`,
            message: `template "${request.key}" has no ${channel} content`,
          },
        ],
  );
  if (missing.length) {
    throw new UnprocessableFieldsError(
      'template_channel_missing',
      `Template "${request.key}" has no content for ${missing.map((error) => error.message.split(' has no ')[1]).join(', ')}`,
      missing,
    );
  }
  return compiled;
}

/** One recipient: the locale from the fallback chain, every requested channel. */
export async function renderForSend(t: Templates, request: RenderRequest): Promise<RenderedSend> {
  const compiled = await currentTemplate(t, request);
  return renderWith(compiled, request);
}

export function renderWith(compiled: CompiledTemplate, request: RenderRequest): RenderedSend {
  const data = { ...compiled.prepareData(request.data, request.pointers.data), ...request.provided };
  const locale = compiled.resolveLocale(request.preferences);
  return {
    template: { key: compiled.key, version: compiled.version, locale, data: request.data },
    content: compiled.render(locale, data, request.channels, request.pointers.data),
  };
}

export interface RenderedEveryLocale {
  template: TemplateRef & { version: number };
  defaultLocale: string;
  byLocale: Record<string, RenderedChannels>;
}

/**
 * A broadcast: every locale the template has, rendered once each, so the
 * fan-out only picks a variant per recipient (no render per user) and a
 * variable that one locale misses is a 422 before anything is accepted.
 */
export async function renderEveryLocale(
  t: Templates,
  request: Omit<RenderRequest, 'preferences'>,
): Promise<RenderedEveryLocale> {
  const compiled = await currentTemplate(t, { ...request, preferences: [] });
  const data = { ...compiled.prepareData(request.data, request.pointers.data), ...request.provided };
  const byLocale: Record<string, RenderedChannels> = {};
  for (const locale of compiled.locales) {
    byLocale[locale] = compiled.render(locale, data, request.channels, request.pointers.data);
  }
  return {
    template: { key: compiled.key, version: compiled.version, data: request.data },
    defaultLocale: compiled.content.defaultLocale,
    byLocale,
  };
}

/**
 * What a preview shows for the variables the service provides at send
 * (`{{unsubscribeUrl}}`, `{{preferencesUrl}}`): a template using them
 * previews instead of failing on a variable the data cannot hold.
 */
const PREVIEW_PROVIDED = {
  unsubscribeUrl: 'https://example.invalid/unsubscribe-link',
  preferencesUrl: 'https://example.invalid/preferences-link',
};

/** The same rendering as a send, of every channel the template has; nothing stored or sent. */
export async function previewTemplate(t: Templates, key: string, body: PreviewRequest): Promise<Preview> {
  const compiled = body.version ? await t.cache.atVersion(key, body.version) : await t.cache.current(key);
  if (!compiled) {
    throw body.version
      ? new NotFoundError('template_version_not_found', `Template "${key}" has no version ${body.version}`)
      : new NotFoundError('template_not_found', `No template "${key}"`);
  }
  const { template, content } = renderWith(compiled, {
    key,
    data: body.data,
    preferences: [body.locale],
    channels: compiled.channels,
    pointers: { data: '/body/data', key: '/params/key', channels: '/body/channels' },
    provided: PREVIEW_PROVIDED,
  });
  return {
    key,
    version: template.version,
    locale: template.locale,
    ...(content.email ?? {}),
    ...(content.sms !== undefined ? { sms: content.sms } : {}),
    ...(content.inApp ? { inApp: content.inApp } : {}),
  };
}

const flatten = (content: RenderedChannels) => ({
  ...(content.email ?? {}),
  ...(content.sms !== undefined ? { sms: content.sms } : {}),
  ...(content.inApp ? { inApp: content.inApp } : {}),
});

/**
 * An unsaved draft (the editor's content as the admin types it), checked as a save would check it
 * (422 naming the part that does not compile) and rendered in every locale and channel it has,
 * with this data. Nothing is stored or cached: the compiled draft is dropped with the response.
 */
export function previewDraft(t: Templates, body: DraftPreviewRequest): DraftPreview {
  const content = checkedContent(
    t,
    { ...body.template, variables: body.template.variables ?? EMPTY_VARIABLES },
    '/body/template',
  );
  const compiled = new CompiledTemplate(t.engine, t.variables, 'draft', 0, content);
  try {
    const data = { ...compiled.prepareData(body.data, '/body/data'), ...PREVIEW_PROVIDED };
    const locales: DraftPreview['locales'] = {};
    for (const locale of compiled.locales) {
      locales[locale] = flatten(compiled.render(locale, data, compiled.channels, '/body/data'));
    }
    return { defaultLocale: content.defaultLocale, channels: content.channels, locales };
  } finally {
    compiled.release();
  }
}

/**
 * Herald's own sends (the verification email) render the stored system
 * template, which an admin may have edited. If the stored one cannot
 * render with the data Herald gives it (deleted variables, a new required
 * one), the shipped content is used and the error logged: an edit must not
 * stop people from confirming their address.
 */
export async function renderSystemTemplate(
  t: Templates,
  definition: SystemTemplate,
  request: Omit<RenderRequest, 'key'>,
): Promise<RenderedSend | { template: TemplateRef & { locale: string }; content: RenderedChannels }> {
  try {
    return await renderForSend(t, { ...request, key: definition.key });
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    t.log.error(
      { key: definition.key, code: error.code, detail: error.detail },
      'the stored system template cannot be rendered; sending the shipped content',
    );
  }
  const shipped = shippedTemplate(t, definition);
  const rendered = renderWith(shipped, { ...request, key: definition.key });
  const { version: _shipped, ...template } = rendered.template;
  return { template, content: rendered.content };
}

function shippedTemplate(t: Templates, definition: SystemTemplate): CompiledTemplate {
  const byKey = t.shipped;
  const cached = byKey.get(definition.key);
  if (cached) return cached;
  const { content } = checkTemplate(t.engine, t.variables, definition.content);
  // Version 0: not a stored version; the notification records none.
  const compiled = new CompiledTemplate(t.engine, t.variables, definition.key, 0, content);
  byKey.set(definition.key, compiled);
  return compiled;
}
