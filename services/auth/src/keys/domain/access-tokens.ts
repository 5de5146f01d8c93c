import jwt from 'jsonwebtoken';
import { INBOX_TOKEN_TYPE } from '@herald/runtime/http';
import { type PublicJwk, type SigningKeyRing } from './signing-keys';

export interface AccessTokenSubject {
  userId: string;
  role: 'user' | 'admin';
  emailVerified: boolean;
  /** the session (refresh-token family) the token was issued in */
  sessionId: string;
}

export interface AccessTokenSettings {
  keys: SigningKeyRing;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/**
 * Claims as every Herald service reads them (`createTokenVerifier` in
 * @herald/runtime): `sub`, `role`, `email_verified`, `iat`, `exp`, `iss`,
 * `aud`; plus `sid`, which only auth reads (password change keeps the
 * current session and revokes the others).
 */
export function signAccessToken(
  settings: AccessTokenSettings,
  subject: AccessTokenSubject,
  now: Date = new Date(),
): string {
  const key = settings.keys.current;
  return jwt.sign(
    {
      role: subject.role,
      email_verified: subject.emailVerified,
      sid: subject.sessionId,
      // jsonwebtoken counts `expiresIn` from `iat`: both follow the service's clock
      iat: Math.floor(now.getTime() / 1000),
    },
    key.privateKey,
    {
      algorithm: key.algorithm,
      keyid: key.kid,
      issuer: settings.issuer,
      audience: settings.audience,
      subject: subject.userId,
      expiresIn: settings.ttlSeconds,
    },
  );
}

/** The session id of a token this service signed and the caller already verified. */
export function sessionIdOf(token: string): string | undefined {
  const payload = jwt.decode(token);
  return payload && typeof payload === 'object' && typeof payload.sid === 'string' ? payload.sid : undefined;
}

export function publicJwks(keys: SigningKeyRing): { keys: PublicJwk[] } {
  return { keys: keys.all.map((key) => key.publicJwk) };
}

/**
 * An inbox token: the application's front end opens one subscriber's inbox
 * and socket with it, nothing else. Signed with the current key like an
 * access token, so every service verifies it through the same JWKS; `typ:
 * inbox` and `sub: sub:<externalId>` make verifiers read it as a subscriber
 * (`createTokenVerifier` in @herald/runtime), never as a user.
 */
export function signInboxToken(
  settings: Omit<AccessTokenSettings, 'ttlSeconds'>,
  subscriberId: string,
  ttlSeconds: number,
  now: Date = new Date(),
): { token: string; expiresAt: Date } {
  const key = settings.keys.current;
  const issuedAt = Math.floor(now.getTime() / 1000);
  const token = jwt.sign({ typ: INBOX_TOKEN_TYPE, iat: issuedAt }, key.privateKey, {
    algorithm: key.algorithm,
    keyid: key.kid,
    issuer: settings.issuer,
    audience: settings.audience,
    subject: subscriberId,
    expiresIn: ttlSeconds,
  });
  return { token, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
}
