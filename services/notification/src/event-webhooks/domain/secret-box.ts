import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encryption at rest of the endpoints' signing secrets (AES-256-GCM). A
 * database dump or backup holds only `enc:v1:<iv>:<tag>:<ciphertext>`
 * (base64url parts, a fresh random 12-byte IV per value); signing needs
 * the secret itself, so it is encrypted, not hashed. The key is
 * WEBHOOK_SECRETS_KEY (32 bytes, base64).
 */
export const SEALED_PREFIX = 'enc:v1:';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A sealed value that cannot be opened: altered, truncated, or sealed under another key. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** The 32-byte key from its base64 form (as `openssl rand -base64 32` prints it). */
export function secretsKeyFromBase64(value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`WEBHOOK_SECRETS_KEY must be ${KEY_BYTES} bytes, base64`);
  return key;
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES)
      throw new Error(`a secret box key is ${KEY_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** `enc:v1:<iv>:<tag>:<ciphertext>`, with a fresh random IV. */
  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${SEALED_PREFIX}${[iv, tag, ciphertext].map((part) => part.toString('base64url')).join(':')}`;
  }

  /** A sealed value's plaintext; throws `SecretBoxError` when it is altered or sealed under another key. */
  open(sealed: string): string {
    if (!isSealed(sealed)) throw new SecretBoxError('not a sealed value');
    const parts = sealed.slice(SEALED_PREFIX.length).split(':');
    if (parts.length !== 3) throw new SecretBoxError('a sealed value has three parts: iv, tag, ciphertext');
    const [iv, tag, ciphertext] = parts.map((part) => Buffer.from(part, 'base64url')) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SecretBoxError('a sealed value has a 12-byte IV and a 16-byte tag');
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        'a sealed secret does not open: altered, or sealed under another WEBHOOK_SECRETS_KEY',
      );
    }
  }

  /** What signing uses: a sealed value opened, a plaintext one (written before encryption) as it is. */
  reveal(stored: string): string {
    return isSealed(stored) ? this.open(stored) : stored;
  }

  /** What is stored: a plaintext value sealed, a sealed one as it is. */
  sealStored(stored: string): string {
    return isSealed(stored) ? stored : this.seal(stored);
  }
}
