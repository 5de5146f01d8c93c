import { AppError, ValidationError } from '@herald/runtime';
import { type ServiceContext } from '../../kernel/context';
import { muteCategoryEmail } from '../../preferences/domain/preferences';
import { verifyUnsubscribeToken, type UnsubscribeClaim } from './token';

export const TOKEN_FIELD = '/querystring/token';

export class UnsubscribeNotConfigured extends AppError {
  constructor() {
    super(503, 'unsubscribe_not_configured', 'Unsubscribe links are not configured on this server');
  }
}

/** A tampered, malformed or expired link: 400 naming the token, nothing changed. */
export class InvalidUnsubscribeToken extends ValidationError {
  constructor(readonly reason: 'invalid' | 'expired') {
    super(
      reason === 'expired' ? 'The unsubscribe link has expired' : 'The unsubscribe link is not valid',
      [
        {
          field: TOKEN_FIELD,
          message: reason === 'expired' ? 'has expired' : 'is not a link this server signed',
        },
      ],
      reason === 'expired' ? 'unsubscribe_link_expired' : 'unsubscribe_link_invalid',
    );
  }
}

/** What a link says, once its MAC and expiry are checked; throws the 400 or 503 otherwise. */
export function claimOf(ctx: ServiceContext, token: string): UnsubscribeClaim {
  const settings = ctx.settings.unsubscribe;
  if (!settings) throw new UnsubscribeNotConfigured();
  const verdict = verifyUnsubscribeToken(settings.secret, token, ctx.now());
  if (!verdict.ok) throw new InvalidUnsubscribeToken(verdict.reason);
  return verdict.claim;
}

/** The category's name for the page, or its key when it was deleted since. */
export async function categoryName(ctx: ServiceContext, key: string): Promise<string> {
  return (await ctx.categories.find(key))?.name ?? key;
}

/**
 * One-click unsubscribe (RFC 8058): mutes the link's category by email for
 * its recipient, audited as `unsubscribe`. Idempotent: a second POST (mail
 * providers retry, people click twice) changes and audits nothing.
 */
export async function unsubscribeByLink(
  ctx: ServiceContext,
  token: string,
): Promise<{ claim: UnsubscribeClaim; changed: boolean }> {
  const claim = claimOf(ctx, token);
  const { changed } = await muteCategoryEmail(ctx, claim.recipientId, claim.category, {
    by: `link:${claim.category}`,
    byKind: 'unsubscribe',
  });
  if (changed)
    ctx.log.info({ recipientId: claim.recipientId, category: claim.category }, 'unsubscribed by link');
  return { claim, changed };
}
