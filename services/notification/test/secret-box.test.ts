import { randomBytes } from 'node:crypto';
import { generateSecret } from '../src/event-webhooks/domain/signing';
import {
  SecretBox,
  SecretBoxError,
  isSealed,
  secretsKeyFromBase64,
} from '../src/event-webhooks/domain/secret-box';
import { DEVELOPMENT_WEBHOOK_SECRETS_KEY, NotificationEnv, requireWebhookSecretsKey } from '../src/config';
import { ConfigError, DEVELOPMENT_SECRETS, loadConfig } from '@herald/runtime';

/* The encryption at rest of the event webhooks' signing secrets (AES-256-GCM). */

describe('secret box', () => {
  const box = new SecretBox(randomBytes(32));

  it('seals a secret as enc:v1:<iv>:<tag>:<ciphertext> (base64url) and opens it again', () => {
    const secret = generateSecret();
    const sealed = box.seal(secret);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret.slice('whsec_'.length));
    expect(isSealed(sealed)).toBe(true);
    expect(box.open(sealed)).toBe(secret);
    expect(box.reveal(sealed)).toBe(secret);
  });

  it('uses a fresh IV per value: the same secret sealed twice differs', () => {
    const secret = generateSecret();
    const sealed = Array.from({ length: 20 }, () => box.seal(secret));
    expect(new Set(sealed.map((value) => value.split(':')[2])).size).toBe(20);
    expect(new Set(sealed).size).toBe(20);
    for (const value of sealed) expect(box.open(value)).toBe(secret);
  });

  it('refuses an altered ciphertext, tag or IV', () => {
    const sealed = box.seal(generateSecret());
    const [, , iv, tag, ciphertext] = sealed.split(':') as [string, string, string, string, string];
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    for (const altered of [
      `enc:v1:${iv}:${tag}:${flip(ciphertext)}`,
      `enc:v1:${iv}:${flip(tag)}:${ciphertext}`,
      `enc:v1:${flip(iv)}:${tag}:${ciphertext}`,
      `enc:v1:${iv}:${tag}`,
      `enc:v1:${iv}:${tag.slice(4)}:${ciphertext}`,
    ]) {
      expect(() => box.open(altered)).toThrow(SecretBoxError);
    }
  });

  it('refuses a value sealed under another key', () => {
    const sealed = new SecretBox(randomBytes(32)).seal(generateSecret());
    expect(() => box.open(sealed)).toThrow(/another WEBHOOK_SECRETS_KEY/);
    expect(() => box.reveal(sealed)).toThrow(SecretBoxError);
  });

  it('reads a plaintext secret (written before encryption) as it is, and seals it for storage', () => {
    const secret = generateSecret();
    expect(box.reveal(secret)).toBe(secret);
    const stored = box.sealStored(secret);
    expect(isSealed(stored)).toBe(true);
    expect(box.open(stored)).toBe(secret);
    expect(box.sealStored(stored)).toBe(stored);
  });

  it('takes only a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
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
});
