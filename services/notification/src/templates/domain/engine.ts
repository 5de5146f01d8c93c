import Handlebars from 'handlebars';
import { convert } from 'html-to-text';
import juice from 'juice';

/*
 * The rendering environment: one isolated Handlebars instance (never the
 * global one, so nothing else in the process can register a helper or a
 * partial into it), the Intl helpers, the partials and the shared email
 * layout. Prototype access stays blocked (Handlebars' default since 4.6):
 * `{{constructor}}` renders nothing instead of reaching into Object.
 */

export type HandlebarsEnvironment = ReturnType<typeof Handlebars.create>;
export type CompiledPart = HandlebarsTemplateDelegate;

/** Runtime `@data` every render gets: helpers read the locale from it, the footer its text. */
export interface RenderData {
  locale: string;
  strings: LayoutStrings;
  /** the part being rendered is HTML; plain parts (subject, text, SMS, in-app) are not escaped */
  html?: boolean;
}

interface HelperOptions {
  hash: Record<string, unknown>;
  data?: { locale?: string; html?: boolean; root?: unknown };
}

export const HELPERS = ['formatDate', 'formatNumber', 'formatCurrency', 'safeUrl'] as const;
export const PARTIALS = ['button', 'footer'] as const;
/** Handlebars' own block helpers, which stay available. */
const BUILT_IN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup'] as const;
export const KNOWN_HELPERS = new Set<string>([...HELPERS, ...BUILT_IN_HELPERS]);

const knownHelpers = Object.fromEntries(HELPERS.map((name) => [name, true]));

/**
 * `strict`: a variable the template uses but the data lacks throws (and is
 * answered 422 naming it) instead of rendering a blank. `knownHelpersOnly`:
 * a call to any helper not registered here fails at compile time.
 */
export const HTML_OPTIONS = { strict: true, knownHelpers, knownHelpersOnly: true } as const;
/** Subject, text, SMS and in-app parts are plain text: no HTML escaping. */
export const PLAIN_OPTIONS = { ...HTML_OPTIONS, noEscape: true } as const;

/** A value a helper could not use; rendered as a 422 naming the helper. */
export class HelperError extends Error {}

function toDate(value: unknown, helper: string): Date {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'string' || typeof value === 'number'
        ? new Date(value)
        : null;
  if (!date || Number.isNaN(date.getTime()))
    throw new HelperError(`${helper}: ${String(value)} is not a date`);
  return date;
}

function toNumber(value: unknown, helper: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw new HelperError(`${helper}: ${String(value)} is not a number`);
  return number;
}

/** Intl throws RangeError for an unknown time zone, currency or option value: a template error, not a bug. */
function intl<T>(helper: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw new HelperError(`${helper}: ${(error as Error).message}`);
  }
}

const localeOf = (options: HelperOptions) => options.data?.locale ?? 'en';

const DATE_STYLES = new Set(['full', 'long', 'medium', 'short']);
const dateStyle = (value: unknown) =>
  typeof value === 'string' && DATE_STYLES.has(value)
    ? (value as Intl.DateTimeFormatOptions['dateStyle'])
    : undefined;

/** Only options that are safe and meaningful are passed through from the template's hash. */
function numberOptions(hash: Record<string, unknown>): Intl.NumberFormatOptions {
  const options: Intl.NumberFormatOptions = {};
  for (const name of ['minimumFractionDigits', 'maximumFractionDigits'] as const) {
    if (typeof hash[name] === 'number') options[name] = hash[name];
  }
  if (hash.style === 'percent' || hash.style === 'decimal') options.style = hash.style;
  if (hash.notation === 'compact' || hash.notation === 'standard') options.notation = hash.notation;
  return options;
}

const ATTRIBUTE_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeAttribute = (value: string) => value.replace(/[&<>"']/g, (char) => ATTRIBUTE_ESCAPES[char]!);

function registerHelpers(env: HandlebarsEnvironment): void {
  /** `{{formatDate when dateStyle="long" timeStyle="short" timeZone="Europe/Paris"}}`; UTC unless told. */
  env.registerHelper('formatDate', (value: unknown, options: HelperOptions) => {
    const { hash } = options;
    const date = toDate(value, 'formatDate');
    const timeStyle = dateStyle(hash.timeStyle);
    const style = dateStyle(hash.dateStyle) ?? (timeStyle ? undefined : 'long');
    return intl('formatDate', () =>
      new Intl.DateTimeFormat(localeOf(options), {
        ...(style ? { dateStyle: style } : {}),
        ...(timeStyle ? { timeStyle } : {}),
        timeZone: typeof hash.timeZone === 'string' ? hash.timeZone : 'UTC',
      }).format(date),
    );
  });
  /** `{{formatNumber count maximumFractionDigits=1}}` */
  env.registerHelper('formatNumber', (value: unknown, options: HelperOptions) => {
    const number = toNumber(value, 'formatNumber');
    return intl('formatNumber', () =>
      new Intl.NumberFormat(localeOf(options), numberOptions(options.hash)).format(number),
    );
  });
  /** `{{formatCurrency total "EUR"}}` */
  env.registerHelper('formatCurrency', (value: unknown, currency: unknown, options: HelperOptions) => {
    const number = toNumber(value, 'formatCurrency');
    if (typeof currency !== 'string') throw new HelperError('formatCurrency: the currency code is missing');
    return intl('formatCurrency', () =>
      new Intl.NumberFormat(localeOf(options), {
        ...numberOptions(options.hash),
        style: 'currency',
        currency,
      }).format(number),
    );
  });
  /**
   * Escaping keeps data from breaking out of an attribute, but a
   * `javascript:` URL is harmful once clicked: links from data must be
   * http(s) or mailto.
   */
  env.registerHelper('safeUrl', (value: unknown, options: HelperOptions) => {
    const trimmed = String(value ?? '').trim();
    const url = /^(https?:\/\/|mailto:)/i.test(trimmed) ? trimmed : '#';
    // In html, escaped for a quoted attribute only, so `?a=1` stays readable (Handlebars would
    // write `&#x3D;`). A plain part takes the URL as it is: `&amp;` there would break the link.
    // Anywhere else a plain string is still safe: Handlebars escapes it wherever it escapes.
    return options.data?.html ? new env.SafeString(escapeAttribute(url)) : url;
  });
}

const BUTTON = `<table role="presentation" class="button-table" cellspacing="0" cellpadding="0" border="0"><tr><td>\
<a class="button" href="{{safeUrl url}}">{{label}}</a></td></tr></table>`;
const FOOTER = `<div class="footer">{{@strings.footer}}</div>`;

/** The one email layout: every template's html is its `{{{body}}}`; juice inlines the styles after. */
const LAYOUT = `<!doctype html>
<html lang="{{@locale}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{subject}}</title>
<style>
body { margin: 0; padding: 0; background-color: #f4f5f7; color: #1f2933; font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; }
.container { max-width: 600px; margin: 0 auto; padding: 24px; background-color: #ffffff; }
p { margin: 0 0 16px; font-size: 16px; line-height: 1.5; }
a { color: #1a56db; }
.button-table { margin: 8px 0 24px; }
.button { display: inline-block; padding: 12px 20px; border-radius: 4px; background-color: #1a56db; color: #ffffff; font-weight: 600; text-decoration: none; }
.footer { padding: 16px 24px; color: #6b7280; font-size: 12px; text-align: center; }
@media only screen and (max-width: 620px) { .container { padding: 16px; } }
</style>
</head>
<body>
<div class="container">
{{{body}}}
</div>
{{> footer}}
</body>
</html>`;

export interface LayoutStrings {
  footer: string;
}

/** The layout's own words, by language; English for any other. */
const LAYOUT_STRINGS: Record<string, LayoutStrings> = {
  en: { footer: 'Sent by Herald.' },
  fr: { footer: 'Envoyé par Herald.' },
  de: { footer: 'Gesendet von Herald.' },
  es: { footer: 'Enviado por Herald.' },
  pt: { footer: 'Enviado por Herald.' },
  it: { footer: 'Inviato da Herald.' },
};

export function layoutStrings(locale: string): LayoutStrings {
  return LAYOUT_STRINGS[locale.split('-')[0]!.toLowerCase()] ?? LAYOUT_STRINGS.en!;
}

export interface TemplateEngine {
  env: HandlebarsEnvironment;
  /** the full email document around a rendered body, styles inlined */
  emailDocument(body: string, subject: string, data: RenderData): string;
}

/**
 * juice: mature, the inliner most email tooling uses; it reads `<style>`
 * blocks, applies them as `style=""` and keeps what cannot be inlined
 * (media queries) in a `<style>` block, which is what mail clients need.
 */
function inlineCss(html: string): string {
  return juice(html, { preserveMediaQueries: true, removeStyleTags: true });
}

export function createTemplateEngine(): TemplateEngine {
  const env = Handlebars.create();
  registerHelpers(env);
  env.registerPartial('button', env.compile(BUTTON, HTML_OPTIONS));
  env.registerPartial('footer', env.compile(FOOTER, HTML_OPTIONS));
  const layout = env.compile(LAYOUT, HTML_OPTIONS);
  return {
    env,
    emailDocument: (body, subject, data) => inlineCss(layout({ body, subject }, { data })),
  };
}

/** The plain-text part of an email that has none: from the final HTML, links kept as `text [url]`. */
export function textFromHtml(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'table', format: 'block' },
    ],
  }).trim();
}

/**
 * SMS is plain text: whatever markup data carried in is stripped, tags and
 * comments alike (`<script>x</script>` → `x`); a lone `<` or `>` in prose
 * ("a < b") is not a tag and stays.
 */
export function plainSms(text: string): string {
  return text
    .replace(/<!--[\s\S]*?(-->|$)/g, '')
    .replace(/<\/?[A-Za-z][^<>]*>/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .trim();
}

/** A subject is one header line: whitespace, line separators and control characters collapse to a space. */
export function oneLine(text: string): string {
  return text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
}
