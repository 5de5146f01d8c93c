import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { generateSecret } from '../src/event-webhooks/domain/signing';
import {
  SecretBox,
  SecretBoxError,
  isSealed,
  keyIdOf,
  secretsKeyFromBase64,
  secretsKeysFromList,
} from '../src/event-webhooks/domain/secret-box';
import {
  DEVELOPMENT_WEBHOOK_SECRETS_KEY,
  NotificationEnv,
  requireWebhookSecretsKey,
  settingsFrom,
} from '../src/config';
import { ConfigError, DEVELOPMENT_SECRETS, loadConfig } from '@herald/runtime';

/* The encryption at rest of the event webhooks' signing secrets (AES-256-GCM). */

/** A value as versions before key rotation sealed it: `enc:v1:<iv>:<tag>:<ciphertext>`, no key id. */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `enc:v1:${[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url')).join(':')}`;
}

describe('secret box', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('seals a secret as enc:v2:<keyId>:<iv>:<tag>:<ciphertext> (base64url) and opens it again', () => {
    const secret = generateSecret();
    const sealed = box.seal(secret);
    expect(sealed).toMatch(/^enc:v2:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(sealed.split(':')[2]).toBe(keyIdOf(key));
    expect(keyIdOf(key)).toBe(createHash('sha256').update(key).digest('base64url').slice(0, 8));
    expect(box.currentKeyId).toBe(keyIdOf(key));
    expect(box.isCurrent(sealed)).toBe(true);
    expect(sealed).not.toContain(secret.slice('whsec_'.length));
    expect(isSealed(sealed)).toBe(true);
    expect(box.open(sealed)).toBe(secret);
    expect(box.reveal(sealed)).toBe(secret);
  });

  it('uses a fresh IV per value: the same secret sealed twice differs', () => {
    const secret = generateSecret();
    const sealed = Array.from({ length: 20 }, () => box.seal(secret));
    expect(new Set(sealed.map((value) => value.split(':')[3])).size).toBe(20);
    expect(new Set(sealed).size).toBe(20);
    for (const value of sealed) expect(box.open(value)).toBe(secret);
  });

  it('refuses an altered ciphertext, tag or IV', () => {
    const sealed = box.seal(generateSecret());
    const [, , id, iv, tag, ciphertext] = sealed.split(':') as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    for (const altered of [
      `enc:v2:${id}:${iv}:${tag}:${flip(ciphertext)}`,
      `enc:v2:${id}:${iv}:${flip(tag)}:${ciphertext}`,
      `enc:v2:${id}:${flip(iv)}:${tag}:${ciphertext}`,
      `enc:v2:${id}:${iv}:${tag}`,
      `enc:v2:${id}:${iv}:${tag.slice(4)}:${ciphertext}`,
      // (a byte flipped, not the last character: that one may carry only base64's unused bits)
      `enc:v1:${iv}:${tag}:${flip(ciphertext)}`,
    ]) {
      expect(() => box.open(altered)).toThrow(SecretBoxError);
    }
    expect(() => box.open('enc:v9:whatever')).toThrow(/not a sealed value/);
  });

  it('refuses a value sealed under a key it does not hold, naming that key by its id', () => {
    const other = randomBytes(32);
    const sealed = new SecretBox(other).seal(generateSecret());
    expect(() => box.open(sealed)).toThrow(
      new RegExp(
        `sealed under key ${keyIdOf(other)}, which is neither WEBHOOK_SECRETS_KEY \\(${keyIdOf(key)}\\)`,
      ),
    );
    expect(() => box.reveal(sealed)).toThrow(SecretBoxError);
    expect(() => box.open(sealV1(other, generateSecret()))).toThrow(/another WEBHOOK_SECRETS_KEY/);
  });

  it('opens what a previous key sealed, and seals only under the current key', () => {
    const old = randomBytes(32);
    const older = randomBytes(32);
    const rotated = new SecretBox(key, [old, older]);
    const secret = generateSecret();
    for (const sealed of [
      new SecretBox(old).seal(secret),
      new SecretBox(older).seal(secret),
      box.seal(secret),
    ]) {
      expect(rotated.open(sealed)).toBe(secret);
    }
    const sealed = rotated.seal(secret);
    expect(sealed.split(':')[2]).toBe(keyIdOf(key));
    expect(box.open(sealed)).toBe(secret);
    expect(() => new SecretBox(old).open(sealed)).toThrow(SecretBoxError);
  });

  it('opens an enc:v1 value (no key id) under whichever of its keys sealed it', () => {
    const old = randomBytes(32);
    const secret = generateSecret();
    const rotated = new SecretBox(key, [old]);
    expect(rotated.open(sealV1(key, secret))).toBe(secret);
    expect(rotated.open(sealV1(old, secret))).toBe(secret);
    expect(() => box.open(sealV1(old, secret))).toThrow(SecretBoxError);
  });

  it('re-seals for storage what is not under the current key: plaintext, enc:v1, a previous key', () => {
    const old = randomBytes(32);
    const rotated = new SecretBox(key, [old]);
    const secret = generateSecret();
    for (const stored of [
      secret,
      sealV1(old, secret),
      sealV1(key, secret),
      new SecretBox(old).seal(secret),
    ]) {
      expect(rotated.isCurrent(stored)).toBe(false);
      const resealed = rotated.sealStored(stored);
      expect(rotated.isCurrent(resealed)).toBe(true);
      expect(box.open(resealed)).toBe(secret);
    }
    const current = rotated.seal(secret);
    expect(rotated.sealStored(current)).toBe(current);
    expect(() => box.sealStored(new SecretBox(old).seal(secret))).toThrow(SecretBoxError);
  });

  it('reads a plaintext secret (written before encryption) as it is, and seals it for storage', () => {
    const secret = generateSecret();
    expect(box.reveal(secret)).toBe(secret);
    const stored = box.sealStored(secret);
    expect(isSealed(stored)).toBe(true);
    expect(box.open(stored)).toBe(secret);
    expect(box.sealStored(stored)).toBe(stored);
  });

  it('takes only 32-byte keys', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => new SecretBox(randomBytes(32), [randomBytes(31)])).toThrow(/32 bytes/);
    const keys = [randomBytes(32), randomBytes(32)];
    expect(secretsKeysFromList(keys.map((each) => each.toString('base64')).join(' , '))).toEqual(keys);
    expect(secretsKeysFromList(undefined)).toEqual([]);
    expect(secretsKeysFromList('')).toEqual([]);
    expect(() => secretsKeysFromList(`${keys[0]!.toString('base64')},abc`)).toThrow(
      /WEBHOOK_SECRETS_PREVIOUS_KEYS must be 32 bytes/,
    );
    expect(secretsKeyFromBase64(DEVELOPMENT_WEBHOOK_SECRETS_KEY)).toHaveLength(32);
    expect(() => secretsKeyFromBase64(randomBytes(31).toString('base64'))).toThrow(/WEBHOOK_SECRETS_KEY/);
  });
});

describe('WEBHOOK_SECRETS_KEY', () => {
  const base = { MONGO_URL: 'mongodb://127.0.0.1:27017/x', JWT_JWKS_URL: 'http://127.0.0.1:3001/jwks' };

  it('accepts 32 bytes in base64 and names the variable for anything else', () => {
    const key = randomBytes(32).toString('base64');
    expect(
      loadConfig('notification', NotificationEnv, { ...base, WEBHOOK_SECRETS_KEY: key }).WEBHOOK_SECRETS_KEY,
    ).toBe(key);
    for (const bad of [randomBytes(16).toString('base64'), randomBytes(32).toString('hex'), 'not a key']) {
      expect(() =>
        loadConfig('notification', NotificationEnv, { ...base, WEBHOOK_SECRETS_KEY: bad }),
      ).toThrow(/WEBHOOK_SECRETS_KEY/);
    }
  });

  it('is required in production, and its development value is refused there', () => {
    expect(() => requireWebhookSecretsKey('notification', { NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => requireWebhookSecretsKey('notification', { NODE_ENV: 'production' })).toThrow(
      /WEBHOOK_SECRETS_KEY: required in production/,
    );
    expect(() => requireWebhookSecretsKey('notification', { NODE_ENV: 'development' })).not.toThrow();
    expect(DEVELOPMENT_SECRETS.WEBHOOK_SECRETS_KEY).toContain(DEVELOPMENT_WEBHOOK_SECRETS_KEY);
  });

  it('takes earlier keys in WEBHOOK_SECRETS_PREVIOUS_KEYS, comma-separated, into the settings', () => {
    const [current, old, older] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const config = loadConfig('notification', NotificationEnv, {
      ...base,
      WEBHOOK_SECRETS_KEY: current.toString('base64'),
      WEBHOOK_SECRETS_PREVIOUS_KEYS: `${old.toString('base64')}, ${older.toString('base64')}`,
    });
    const { eventWebhooks } = settingsFrom(config);
    expect(eventWebhooks.secretsKey).toEqual(current);
    expect(eventWebhooks.previousSecretsKeys).toEqual([old, older]);
    expect(
      settingsFrom(loadConfig('notification', NotificationEnv, base)).eventWebhooks.previousSecretsKeys,
    ).toEqual([]);
    for (const bad of [
      randomBytes(16).toString('base64'),
      `${old.toString('base64')};${older.toString('base64')}`,
    ]) {
      expect(() =>
        loadConfig('notification', NotificationEnv, { ...base, WEBHOOK_SECRETS_PREVIOUS_KEYS: bad }),
      ).toThrow(/WEBHOOK_SECRETS_PREVIOUS_KEYS/);
    }
  });

  it('refuses the development key among the previous keys in production', () => {
    const production = { NODE_ENV: 'production', WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64') };
    expect(() =>
      requireWebhookSecretsKey('notification', {
        ...production,
        WEBHOOK_SECRETS_PREVIOUS_KEYS: `${randomBytes(32).toString('base64')},${DEVELOPMENT_WEBHOOK_SECRETS_KEY}`,
      }),
    ).toThrow(/WEBHOOK_SECRETS_PREVIOUS_KEYS: holds the development key/);
    expect(() =>
      requireWebhookSecretsKey('notification', {
        ...production,
        WEBHOOK_SECRETS_PREVIOUS_KEYS: randomBytes(32).toString('base64'),
      }),
    ).not.toThrow();
    expect(() =>
      requireWebhookSecretsKey('notification', {
        WEBHOOK_SECRETS_PREVIOUS_KEYS: DEVELOPMENT_WEBHOOK_SECRETS_KEY,
      }),
    ).not.toThrow();
  });
});
