import { createHmac, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Webhook signatures exactly as the providers compute them, so the
 * notification service's verification can be tested against real shapes.
 */

export interface MailgunSignatureBlock {
  timestamp: string;
  token: string;
  signature: string;
}

/** Mailgun: HMAC-SHA256 of `timestamp + token` with the webhook signing key, hex. */
export function mailgunSignature(signingKey: string, timestamp: string, token: string): string {
  return createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest('hex');
}

/** A fresh signature block, as Mailgun puts in every webhook body. */
export function signMailgunWebhook(signingKey: string, now: Date = new Date()): MailgunSignatureBlock {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const token = randomBytes(25).toString('hex');
  return { timestamp, token, signature: mailgunSignature(signingKey, timestamp, token) };
}

/** Constant-time check of a Mailgun signature block. */
export function isValidMailgunSignature(signingKey: string, block: MailgunSignatureBlock): boolean {
  const expected = Buffer.from(mailgunSignature(signingKey, block.timestamp, block.token), 'hex');
  const given = Buffer.from(block.signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Twilio: HMAC-SHA1 with the auth token over the full URL followed by every
 * POST field name and value, fields sorted by name; base64. This is the
 * `X-Twilio-Signature` header `twilio.validateRequest` checks.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/**
 * SendGrid's Event Webhook: ECDSA P-256 with SHA-256 over the timestamp
 * (unix seconds, as sent in `X-Twilio-Email-Event-Webhook-Timestamp`)
 * followed by the raw body; base64 of the DER signature, as sent in
 * `X-Twilio-Email-Event-Webhook-Signature`.
 */
export function sendGridSignature(privateKey: KeyObject, timestamp: string, body: string): string {
  return sign('sha256', Buffer.from(timestamp + body, 'utf8'), {
    key: privateKey,
    dsaEncoding: 'der',
  }).toString('base64');
}
