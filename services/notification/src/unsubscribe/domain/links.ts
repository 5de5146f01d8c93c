import { API_PREFIX, type DeliveryJobPayload, type EmailHeaders } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { signUnsubscribeToken } from './token';

export const UNSUBSCRIBE_PATH = `${API_PREFIX}/unsubscribe`;

/** What one email of one recipient in one category links to. */
export interface EmailLinks {
  /** the one-click link: GET shows a confirmation page, POST unsubscribes */
  unsubscribeUrl: string;
  /** the application's preference page, or the link's own page */
  preferencesUrl: string;
  headers: EmailHeaders;
}

export interface LinkSubject {
  /** the recipient's id (user or `sub:<externalId>`); none for an address-only recipient */
  recipientId?: string | null;
  /** the notification's category (`general` when it names none) */
  category?: string;
  /** when the email was accepted: the link works `linkTtlMs` after it */
  issuedAt: Date;
}

/**
 * The unsubscribe links of an email, or undefined when it can have none: no
 * secret configured, a recipient without preferences (an outside address),
 * or a critical category (nothing to unsubscribe from). The same subject
 * gives the same links (the expiry follows `issuedAt`), so a republished job
 * carries the same headers.
 */
export async function emailLinks(ctx: ServiceContext, subject: LinkSubject): Promise<EmailLinks | undefined> {
  const settings = ctx.settings.unsubscribe;
  if (!settings || !subject.recipientId) return undefined;
  const category = await ctx.categories.find(subject.category ?? 'general');
  if (!category || category.critical) return undefined;
  const token = signUnsubscribeToken(settings.secret, {
    recipientId: subject.recipientId,
    category: category._id,
    expiresAt: new Date(subject.issuedAt.getTime() + settings.linkTtlMs),
  });
  const unsubscribeUrl = `${ctx.settings.publicBaseUrl.replace(/\/+$/, '')}${UNSUBSCRIBE_PATH}?token=${token}`;
  const mailto = settings.mailto ? `, <mailto:${settings.mailto}?subject=unsubscribe>` : '';
  return {
    unsubscribeUrl,
    preferencesUrl: settings.preferencesPageUrl ?? unsubscribeUrl,
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>${mailto}`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

/** An email job with its List-Unsubscribe headers, when it can have them (see `emailLinks`). */
export async function withListUnsubscribe(
  ctx: ServiceContext,
  record: { recipient: { userId?: string }; category?: string; createdAt: Date },
  payload: DeliveryJobPayload,
): Promise<DeliveryJobPayload> {
  if (payload.channel !== 'email') return payload;
  const links = await emailLinks(ctx, {
    recipientId: record.recipient.userId,
    category: record.category,
    issuedAt: record.createdAt,
  });
  return links ? { ...payload, headers: links.headers } : payload;
}

/*
 * Templates place `{{unsubscribeUrl}}` and `{{preferencesUrl}}`. Content is
 * rendered once for many recipients (a batch, a broadcast's locales, stored
 * and resumed by any instance), so it is rendered with fixed placeholders,
 * unchanged by HTML escaping (`.invalid` never resolves), that each
 * recipient's copy replaces with its own links.
 */
export const LINK_PLACEHOLDERS = {
  unsubscribeUrl: 'https://links.herald.invalid/unsubscribe-url',
  preferencesUrl: 'https://links.herald.invalid/preferences-url',
} as const;

/** The parts of a notification that carry rendered text. */
interface RenderedParts {
  title?: string;
  body?: string;
  html?: string;
  rendered?: unknown;
}

/**
 * Content with this recipient's links in place of the placeholders: empty
 * strings when the email can have none (templates can `{{#if unsubscribeUrl}}`).
 * Only the rendered text is touched (title, body, html, rendered).
 */
export async function fillLinks<T extends RenderedParts>(
  ctx: ServiceContext,
  content: T,
  subject: Omit<LinkSubject, 'issuedAt'>,
): Promise<T> {
  // only templates are rendered with the placeholders; literal content is sent as written
  if (!content.rendered) return content;
  const { title, body, html, rendered } = content;
  const text = JSON.stringify({ title, body, html, rendered });
  if (!text.includes(LINK_PLACEHOLDERS.unsubscribeUrl) && !text.includes(LINK_PLACEHOLDERS.preferencesUrl)) {
    return content;
  }
  const links = await emailLinks(ctx, { ...subject, issuedAt: ctx.now() });
  // written as JSON string content (a configured origin is the operator's text), and through
  // functions, so a `$` in it is not a replacement pattern
  const inJson = (url: string | undefined) => () => JSON.stringify(url ?? '').slice(1, -1);
  const filled = JSON.parse(
    text
      .replaceAll(LINK_PLACEHOLDERS.unsubscribeUrl, inJson(links?.unsubscribeUrl))
      .replaceAll(LINK_PLACEHOLDERS.preferencesUrl, inJson(links?.preferencesUrl)),
  ) as RenderedParts;
  return { ...content, ...filled };
}
