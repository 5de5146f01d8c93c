import { ValidationError, type FieldError } from '@herald/runtime';
import { type Channel } from '@herald/contracts';
import { type FanOutContent } from '../data/fan-out-content';
import { type RenderedChannels } from '../../templates/data/content-types';
import { resolveLocale } from '../../templates/domain/locale';
import { renderEveryLocale } from '../../templates/domain/render';
import { LINK_PLACEHOLDERS } from '../../unsubscribe/domain/links';
import { type ServiceContext } from '../../kernel/context';
import { singleLine } from '../../kernel/single-line';

/** The fields of a create or broadcast body that say what to send. */
export interface ContentInput {
  title?: string;
  body?: string;
  html?: string;
  template?: { key: string; data: Record<string, unknown> };
  locale?: string;
}

/**
 * The body's schema already requires title+body or a template; this
 * refuses both at once, which would leave it unclear what is sent.
 */
export function assertOneContentSource(input: ContentInput): void {
  if (!input.template) {
    if (input.title === undefined || input.body === undefined) {
      throw new ValidationError('The request is invalid', [
        ...(input.title === undefined
          ? [{ field: '/body/title', message: 'is required without a template' }]
          : []),
        ...(input.body === undefined
          ? [{ field: '/body/body', message: 'is required without a template' }]
          : []),
      ]);
    }
    // The title is sent as one line (see singleLine); one made only of line breaks would be empty.
    if (singleLine(input.title) === '') {
      throw new ValidationError('The request is invalid', [
        { field: '/body/title', message: 'must contain visible text' },
      ]);
    }
    return;
  }
  const clashes: FieldError[] = (['title', 'body', 'html'] as const)
    .filter((field) => input[field] !== undefined)
    .map((field) => ({ field: `/body/${field}`, message: 'cannot be combined with a template' }));
  if (clashes.length) throw new ValidationError('The request is invalid', clashes);
}

const TITLE_MAX = 200;

/**
 * The title and body the notification record (and its inbox entry) shows:
 * the in-app content when there is one, else the email's subject and text,
 * else the SMS.
 */
export function summaryOf(content: RenderedChannels): { title: string; body: string } {
  if (content.inApp) return content.inApp;
  if (content.email) return { title: content.email.subject, body: content.email.text };
  const sms = content.sms ?? '';
  const firstLine = sms.split('\n', 1)[0]!.trim();
  return {
    title: firstLine.length > TITLE_MAX ? `${firstLine.slice(0, TITLE_MAX - 1)}…` : firstLine,
    body: sms,
  };
}

/** Only what these channels send (a broadcast recipient without a phone gets no SMS content). */
export function contentFor(content: RenderedChannels, channels: readonly Channel[]): RenderedChannels {
  return {
    // a push shows the in-app title and body
    ...((channels.includes('in_app') || channels.includes('push')) && content.inApp
      ? { inApp: content.inApp }
      : {}),
    ...(channels.includes('email') && content.email ? { email: content.email } : {}),
    ...(channels.includes('sms') && content.sms !== undefined ? { sms: content.sms } : {}),
  };
}

/**
 * Renders a fan-out's content for every locale of its template, with the
 * unsubscribe links as fixed placeholders: each recipient's copy gets its
 * own links when its batch is stored (`storeNotificationBatch`), and the
 * sender's data cannot set them.
 */
export async function renderFanOutContent(
  ctx: ServiceContext,
  input: ContentInput & { channels: Channel[] },
): Promise<FanOutContent> {
  if (!input.template) return { title: input.title!, body: input.body!, html: input.html };
  const rendered = await renderEveryLocale(ctx.templates, {
    key: input.template.key,
    data: input.template.data,
    channels: input.channels,
    pointers: { data: '/body/template/data', key: '/body/template/key', channels: '/body/channels' },
    provided: LINK_PLACEHOLDERS,
  });
  return {
    ...summaryOf(rendered.byLocale[rendered.defaultLocale]!),
    template: rendered.template,
    ...(input.locale ? { locale: input.locale } : {}),
    renderedByLocale: rendered.byLocale,
    defaultLocale: rendered.defaultLocale,
  };
}

/** What one recipient of a fan-out gets: the literal content, or the template's variant for their locale. */
export function recipientContent(
  content: FanOutContent,
  recipientLocale: string | undefined,
  channels: readonly Channel[],
) {
  const { renderedByLocale, template } = content;
  if (!renderedByLocale || !template) return { title: content.title, body: content.body, html: content.html };
  const locale = resolveLocale(
    Object.keys(renderedByLocale),
    [content.locale, recipientLocale],
    content.defaultLocale ?? Object.keys(renderedByLocale)[0]!,
  );
  return {
    ...summaryOf(renderedByLocale[locale]!),
    template: { ...template, locale },
    rendered: contentFor(renderedByLocale[locale]!, channels),
    locale,
  };
}
