import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: refresh and verification tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Tokens are stored only as this hash. A fast hash is right here (unlike
 * passwords): the input is 256 random bits, so there is nothing to brute-force.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
