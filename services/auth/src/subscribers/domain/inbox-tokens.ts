import { type AuthContext } from '../../context';
import { signInboxToken } from '../../keys/domain/access-tokens';
import { assertSubscriberExists, subscriberIdOf } from './subscribers';

/** A short-lived JWT for one existing subscriber's inbox; 404 for an unknown (or deleted) one. */
export async function issueInboxToken(
  ctx: AuthContext,
  externalId: string,
): Promise<{ token: string; expiresAt: string }> {
  await assertSubscriberExists(ctx, externalId);
  const { token, expiresAt } = signInboxToken(
    ctx.tokens,
    subscriberIdOf(externalId),
    ctx.inboxTokenTtlSeconds,
    ctx.now(),
  );
  return { token, expiresAt: expiresAt.toISOString() };
}
