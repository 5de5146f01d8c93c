import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { type Logger } from '@herald/runtime';

export type SigningAlgorithm = 'ES256' | 'RS256';

export interface SigningKey {
  kid: string;
  algorithm: SigningAlgorithm;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

export interface PublicJwk {
  kid: string;
  kty: string;
  use: 'sig';
  alg: SigningAlgorithm;
  [member: string]: unknown;
}

/** The key that signs new tokens, and every key whose tokens are still accepted. */
export interface SigningKeyRing {
  current: SigningKey;
  all: SigningKey[];
}

const PEM_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g;

/**
 * Reads `JWT_PRIVATE_KEYS`: PEM blocks, oldest first; the last one signs.
 * The kid is the key's RFC 7638 thumbprint, so every instance given the
 * same PEMs names them the same way without a second variable to keep in sync.
 */
export function loadSigningKeys(pems: string | undefined, options: { production: boolean; logger: Logger }) {
  if (!pems) {
    if (options.production) {
      throw new Error('JWT_PRIVATE_KEYS must be set in production: a generated key dies with the process');
    }
    options.logger.warn(
      '!!! JWT_PRIVATE_KEYS is not set: signing with a throwaway key generated at start. ' +
        'Tokens stop verifying on restart and differ per instance. Never run like this in production. !!!',
    );
    return keyRing([generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey]);
  }
  // Env files often carry PEMs on one line with literal "\n".
  const blocks = pems.replace(/\\n/g, '\n').match(PEM_BLOCK);
  if (!blocks?.length) throw new Error('JWT_PRIVATE_KEYS holds no PEM private key');
  return keyRing(blocks.map((pem) => createPrivateKey(pem)));
}

export function keyRing(privateKeys: KeyObject[]): SigningKeyRing {
  const all = privateKeys.map(toSigningKey);
  return { current: all[all.length - 1]!, all };
}

function toSigningKey(privateKey: KeyObject): SigningKey {
  const algorithm = algorithmOf(privateKey);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = thumbprint(jwk as Record<string, string>);
  return {
    kid,
    algorithm,
    privateKey,
    publicJwk: { ...jwk, kty: jwk.kty!, kid, use: 'sig', alg: algorithm },
  };
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048)
    return 'RS256';
  throw new Error('JWT_PRIVATE_KEYS: only EC P-256 and RSA (2048 bits or more) keys are supported');
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
function thumbprint(jwk: Record<string, string>): string {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}
