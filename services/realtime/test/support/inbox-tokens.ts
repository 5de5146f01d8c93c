import { generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { INBOX_TOKEN_TYPE, SUBSCRIBER_ID_PREFIX } from '@herald/runtime/http';
import { TEST_AUDIENCE, TEST_ISSUER } from '@herald/test-support';

/**
 * Signs inbox tokens the way auth does (`signInboxToken` in
 * services/auth/src/keys/domain/access-tokens.ts): ES256, a `kid`, auth's
 * issuer and audience, `sub: sub:<externalId>`, `typ: inbox`, `iat`, `exp`.
 * Its own key pair, because TestTokenIssuer keeps its private key to itself;
 * the harness's verifier trusts both keys, as a JWKS with two keys would.
 */
export class InboxTokenIssuer {
  readonly kid = `test-inbox-${randomUUID().slice(0, 8)}`;
  private readonly privateKey: KeyObject;
  readonly publicJwk: JsonWebKey & { kid: string; use: string; alg: string };

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'ES256' };
  }

  sign(externalId: string, options: { expiresInSeconds?: number } = {}): string {
    return jwt.sign({ typ: INBOX_TOKEN_TYPE, iat: Math.floor(Date.now() / 1000) }, this.privateKey, {
      algorithm: 'ES256',
      keyid: this.kid,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      subject: `${SUBSCRIBER_ID_PREFIX}${externalId}`,
      expiresIn: options.expiresInSeconds ?? 900,
    });
  }
}
