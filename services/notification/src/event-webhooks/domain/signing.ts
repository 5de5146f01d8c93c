import { createHmac, randomBytes } from 'node:crypto';
import { EVENT_WEBHOOK_SECRET_PREFIX } from '@herald/contracts';

/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the
 * secret is `whsec_` + base64 of the key; the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`; the signature is
 * `v1,` + base64(HMAC-SHA256(key, content)). Several signatures (a rotation's
 * old and new secrets) are separated by spaces in `webhook-signature`.
 */

/** A fresh secret: 24 random bytes (192 bits), as the specification suggests (between 24 and 64). */
export function generateSecret(): string {
  return `${EVENT_WEBHOOK_SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.slice(EVENT_WEBHOOK_SECRET_PREFIX.length), 'base64');
}

/** `v1,<base64>` for one secret. */
export function sign(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${webhookId}.${timestampSeconds}.${body}`);
  return `v1,${mac.digest('base64')}`;
}

/** The `webhook-signature` header: one signature per secret still signing, the current one first. */
export function signatureHeader(
  secrets: readonly string[],
  webhookId: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((secret) => sign(secret, webhookId, timestampSeconds, body)).join(' ');
}
