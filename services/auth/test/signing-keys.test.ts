import { generateKeyPairSync } from 'node:crypto';
import { createLogger } from '@herald/runtime';
import { loadConfig } from '../src/config';
import { loadSigningKeys } from '../src/keys/domain/signing-keys';
import { LogCapture } from './harness';

const pem = (type: 'ec' | 'rsa') =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 })
  ).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

describe('signing keys from JWT_PRIVATE_KEYS', () => {
  const logs = new LogCapture();
  const logger = createLogger({ name: 'auth', level: 'info', format: 'json' }, logs);

  it('publishes every key and signs with the last; kids are stable thumbprints', () => {
    const older = pem('rsa');
    const newer = pem('ec');
    const ring = loadSigningKeys(`${older}\n${newer}`, { production: true, logger });
    expect(ring.all.map((key) => key.algorithm)).toEqual(['RS256', 'ES256']);
    expect(ring.current).toBe(ring.all[1]);
    const again = loadSigningKeys(`${older}${newer}`.replace(/\n/g, '\\n'), { production: true, logger });
    expect(again.all.map((key) => key.kid)).toEqual(ring.all.map((key) => key.kid));
    expect(JSON.stringify(ring.all.map((key) => key.publicJwk))).not.toMatch(/"d"|"p"|"q"/);
  });

  it('generates a development key with a loud warning when unset', () => {
    const ring = loadSigningKeys(undefined, { production: false, logger });
    expect(ring.current.algorithm).toBe('ES256');
    expect(
      logs.lines.some(
        (line) => line.includes('"level":"warn"') && line.includes('JWT_PRIVATE_KEYS is not set'),
      ),
    ).toBe(true);
  });

  it('refuses to start in production without keys, and refuses weak or unknown keys', () => {
    expect(() => loadSigningKeys(undefined, { production: true, logger })).toThrow(
      /must be set in production/,
    );
    expect(() => loadSigningKeys('not a pem', { production: true, logger })).toThrow(/no PEM private key/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    expect(() => loadSigningKeys(p384 as string, { production: true, logger })).toThrow(
      /only EC P-256 and RSA/,
    );
  });
});

describe('auth config', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3001,
      JWT_ISSUER: 'herald-auth',
      JWT_AUDIENCE: 'herald',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 2_592_000,
      BCRYPT_COST: 12,
      VERIFY_EMAIL_URL_BASE: 'http://localhost:8080/verify-email?token=',
      VERIFY_EMAIL_TOKEN_TTL_SECONDS: 3600,
    });
  });

  it('names each bad variable', () => {
    expect(() => loadConfig({ BCRYPT_COST: '2', VERIFY_EMAIL_URL_BASE: 'javascript:alert(1)' })).toThrow(
      /BCRYPT_COST[\s\S]*VERIFY_EMAIL_URL_BASE/,
    );
  });
});
