import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption at rest of the endpoints' signing secrets (AES-256-GCM). A
 * database dump or backup holds only sealed values; signing needs the
 * secret itself, so it is encrypted, not hashed.
 *
 * The key is WEBHOOK_SECRETS_KEY (32 bytes, base64). Keys rotate: values are
 * sealed under the current key as `enc:v2:<keyId>:<iv>:<tag>:<ciphertext>`
 * (base64url parts, a fresh random 12-byte IV per value), and opened under
 * whichever key sealed them, the current one or one of
 * WEBHOOK_SECRETS_PREVIOUS_KEYS; a starting instance re-seals what an older
 * key sealed (`resealStoredSecrets`), after which the old key can go.
 * `keyId` names a key without revealing it: the first 8 base64url
 * characters (48 bits) of the SHA-256 of the key. `enc:v1:<iv>:<tag>:<ct>`,
 * written before keys rotated, carries no key id: each key is tried (the
 * GCM tag tells the right one).
 */
export const SEALED_PREFIX = 'enc:';
const V1 = 'enc:v1:';
const V2 = 'enc:v2:';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A sealed value that cannot be opened: altered, truncated, or sealed under a key this box does not hold. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** The 32-byte key from its base64 form (as `openssl rand -base64 32` prints it). */
export function secretsKeyFromBase64(value: string, variable = 'WEBHOOK_SECRETS_KEY'): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${variable} must be ${KEY_BYTES} bytes, base64`);
  return key;
}

/** The keys of a comma-separated list (WEBHOOK_SECRETS_PREVIOUS_KEYS); empty or unset: none. */
export function secretsKeysFromList(value: string | undefined): Buffer[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => secretsKeyFromBase64(part, 'WEBHOOK_SECRETS_PREVIOUS_KEYS'));
}

/** A key's public name in sealed values and logs. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

function toKey(key: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new Error(`a secret box key is ${KEY_BYTES} bytes, not ${key.length}`);
  return Buffer.from(key);
}

/** The box of a service's settings: WEBHOOK_SECRETS_KEY, and WEBHOOK_SECRETS_PREVIOUS_KEYS to open older values. */
export function secretBoxFor(settings: {
  secretsKey: Buffer;
  previousSecretsKeys?: readonly Buffer[];
}): SecretBox {
  return new SecretBox(settings.secretsKey, settings.previousSecretsKeys);
}

export class SecretBox {
  private readonly current: Buffer;
  readonly currentKeyId: string;
  /** every key this box opens with, by id: the current one first */
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.current = toKey(current);
    this.currentKeyId = keyIdOf(this.current);
    for (const key of [this.current, ...previous.map(toKey)]) {
      const id = keyIdOf(key);
      if (!this.keys.has(id)) this.keys.set(id, key);
    }
  }

  /** `enc:v2:<keyId>:<iv>:<tag>:<ciphertext>` under the current key, with a fresh random IV. */
  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const parts = [iv, tag, ciphertext].map((part) => part.toString('base64url'));
    return `${V2}${this.currentKeyId}:${parts.join(':')}`;
  }

  /**
   * A sealed value's plaintext, under whichever of this box's keys sealed
   * it; throws `SecretBoxError` when it is altered, or sealed under a key
   * the box does not hold (naming that key's id when the value carries it).
   */
  open(sealed: string): string {
    if (sealed.startsWith(V2)) {
      const [keyId, ...parts] = sealed.slice(V2.length).split(':');
      const key = this.keys.get(keyId ?? '');
      if (!key) {
        throw new SecretBoxError(
          `a sealed secret was sealed under key ${keyId}, which is neither WEBHOOK_SECRETS_KEY (${this.currentKeyId}) nor in WEBHOOK_SECRETS_PREVIOUS_KEYS`,
        );
      }
      const plaintext = decrypt(key, parts);
      if (plaintext === undefined)
        throw new SecretBoxError(`a sealed secret does not open under its key ${keyId}: altered`);
      return plaintext;
    }
    if (sealed.startsWith(V1)) {
      const parts = sealed.slice(V1.length).split(':');
      for (const key of this.keys.values()) {
        const plaintext = decrypt(key, parts);
        if (plaintext !== undefined) return plaintext;
      }
      throw new SecretBoxError(
        'a sealed secret does not open: altered, or sealed under another WEBHOOK_SECRETS_KEY (neither the current one nor one in WEBHOOK_SECRETS_PREVIOUS_KEYS)',
      );
    }
    throw new SecretBoxError('not a sealed value');
  }

  /** What signing uses: a sealed value opened, a plaintext one (written before encryption) as it is. */
  reveal(stored: string): string {
    return isSealed(stored) ? this.open(stored) : stored;
  }

  /** The prefix of every value sealed under the current key. */
  get currentPrefix(): string {
    return `${V2}${this.currentKeyId}:`;
  }

  /** Whether a stored value is sealed under the current key (nothing to re-seal). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(this.currentPrefix);
  }

  /**
   * What is stored: a value sealed under the current key as it is; a
   * plaintext one, or one sealed under an older key (or as v1), sealed anew
   * under the current key. Throws `SecretBoxError` when it does not open.
   */
  sealStored(stored: string): string {
    return this.isCurrent(stored) ? stored : this.seal(this.reveal(stored));
  }
}

/** The plaintext, or undefined when the parts are malformed or do not open under `key`. */
function decrypt(key: Buffer, parts: readonly string[]): string | undefined {
  if (parts.length !== 3) return undefined;
  const [iv, tag, ciphertext] = parts.map((part) => Buffer.from(part, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
