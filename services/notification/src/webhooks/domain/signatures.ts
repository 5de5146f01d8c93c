import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

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

/**
 * SendGrid's verification key as its settings page shows it: base64 of a
 * DER SubjectPublicKeyInfo of a P-256 key. Read once at start, so a key
 * pasted wrong stops the service instead of rejecting every event.
 */
export function sendGridPublicKey(base64Der: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(base64Der.trim(), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('not a P-256 (prime256v1) public key');
  }
  return key;
}

/**
 * SendGrid's Event Webhook: ECDSA P-256 with SHA-256 over the
 * `X-Twilio-Email-Event-Webhook-Timestamp` header followed by the raw body,
 * the signature base64 DER in `X-Twilio-Email-Event-Webhook-Signature`.
 */
export function isValidSendGridSignature(
  publicKey: KeyObject,
  timestamp: string,
  rawBody: Buffer,
  signature: string,
): boolean {
  const payload = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
  try {
    return verify(
      'sha256',
      payload,
      { key: publicKey, dsaEncoding: 'der' },
      Buffer.from(signature, 'base64'),
    );
  } catch {
    // A signature that is not DER at all is as forged as a wrong one.
    return false;
  }
}
