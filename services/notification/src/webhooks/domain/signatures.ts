import { createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two strings; unequal lengths are unequal without leaking where. */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Mailgun: hex HMAC-SHA256 of `timestamp + token` with the webhook signing key. */
export function isValidMailgunSignature(
  signingKey: string,
  block: { timestamp: string; token: string; signature: string },
): boolean {
  const expected = createHmac('sha256', signingKey)
    .update(block.timestamp + block.token)
    .digest('hex');
  return sameText(expected, block.signature.toLowerCase());
}

/**
 * Twilio: base64 HMAC-SHA1 with the auth token over the full public URL
 * followed by every POST field name and value, sorted by name. Written here
 * rather than taken from the `twilio` package, which this service does not
 * depend on.
 */
export function isValidTwilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string>,
  signature: string,
): boolean {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  const expected = createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
  return sameText(expected, signature);
}
