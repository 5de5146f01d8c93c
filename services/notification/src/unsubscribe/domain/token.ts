import { createHmac, timingSafeEqual } from 'node:crypto';

/** Who a link unsubscribes, from what, until when it works. */
export interface UnsubscribeClaim {
  /** the recipient's id: a user id or `sub:<externalId>` (the owner of its preferences) */
  recipientId: string;
  category: string;
  expiresAt: Date;
}

/** Binds the MAC to this use of the key: a MAC made for anything else never verifies here. */
const CONTEXT = 'herald-unsubscribe.v1.';
/** A token longer than this is refused before any work (ids and keys are short). */
export const MAX_TOKEN_LENGTH = 600;

const mac = (secret: string, payload: string) =>
  createHmac('sha256', secret)
    .update(CONTEXT + payload)
    .digest();

/**
 * `<payload>.<mac>`, both base64url: the payload is `{r, c, e}` (recipient,
 * category, expiry in Unix seconds) and the MAC an HMAC-SHA-256 of it with
 * the service's secret. Nothing is stored: the link is its own proof.
 */
export function signUnsubscribeToken(secret: string, claim: UnsubscribeClaim): string {
  const payload = Buffer.from(
    JSON.stringify({
      r: claim.recipientId,
      c: claim.category,
      e: Math.floor(claim.expiresAt.getTime() / 1000),
    }),
  ).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

export type TokenVerdict =
  { ok: true; claim: UnsubscribeClaim } | { ok: false; reason: 'invalid' | 'expired' };

/** The claim of a token this service signed and that has not expired; the MAC is compared in constant time. */
export function verifyUnsubscribeToken(secret: string, token: string, now: Date): TokenVerdict {
  const invalid = { ok: false, reason: 'invalid' } as const;
  if (token.length > MAX_TOKEN_LENGTH) return invalid;
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return invalid;
  const expected = mac(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return invalid;
  }
  const { r, c, e } = (parsed ?? {}) as { r?: unknown; c?: unknown; e?: unknown };
  if (typeof r !== 'string' || typeof c !== 'string' || typeof e !== 'number' || !r || !c) return invalid;
  const expiresAt = new Date(e * 1000);
  if (expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claim: { recipientId: r, category: c, expiresAt } };
}
