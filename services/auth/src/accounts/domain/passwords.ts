import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { ValidationError } from '@herald/runtime';

export const PASSWORD_MIN_BYTES = 8;
/** bcrypt ignores everything after 72 bytes: a longer password would be silently truncated */
export const PASSWORD_MAX_BYTES = 72;

/** Throws a 400 naming `field` when the password breaks the policy. */
export function assertPasswordPolicy(password: string, email: string, field: string): void {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes < PASSWORD_MIN_BYTES || bytes > PASSWORD_MAX_BYTES) {
    throw new ValidationError('The password does not meet the policy', [
      { field, message: `must be ${PASSWORD_MIN_BYTES} to ${PASSWORD_MAX_BYTES} bytes long` },
    ]);
  }
  if (password.trim().toLowerCase() === email) {
    throw new ValidationError('The password does not meet the policy', [
      { field, message: 'must not be the email address' },
    ]);
  }
}

/**
 * Hashing and comparing passwords: a dependency of the domain, so tests can
 * count what login compared (an unknown email must still pay for a compare
 * at full cost) without timing it.
 */
export interface Passwords {
  hash(password: string): Promise<string>;
  /**
   * False, never a throw, for input bcrypt refuses. bcrypt reads only 72
   * bytes, so a longer candidate would "match" a password it merely starts
   * with; it is compared anyway (same cost) and then refused.
   */
  matches(password: string, hash: string): Promise<boolean>;
}

/** bcrypt at the configured cost. */
export function bcryptPasswords(cost: number): Passwords {
  return {
    hash: (password) => bcrypt.hash(password, cost),
    async matches(password, hash) {
      try {
        const matches = await bcrypt.compare(password, hash);
        return matches && Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
      } catch {
        return false;
      }
    },
  };
}

/**
 * A hash of a random password at the configured cost. Login compares an
 * unknown email's password against it, so "no such user" costs the same
 * bcrypt compare as "wrong password" and the timing does not tell which
 * emails have accounts.
 */
export function createDummyHash(passwords: Passwords): Promise<string> {
  return passwords.hash(`dummy-${randomBytes(16).toString('base64url')}`);
}
