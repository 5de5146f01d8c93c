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

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

/**
 * False, never a throw, for input bcrypt refuses. bcrypt reads only 72
 * bytes, so a longer candidate would "match" a password it merely starts
 * with; it is compared anyway (same timing) and then refused.
 */
export async function passwordMatches(password: string, hash: string): Promise<boolean> {
  try {
    const matches = await bcrypt.compare(password, hash);
    return matches && Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
  } catch {
    return false;
  }
}

/**
 * A hash of a random password at the configured cost. Login compares an
 * unknown email's password against it, so "no such user" takes as long as
 * "wrong password" and the timing does not tell which emails have accounts.
 */
export function createDummyHash(cost: number): Promise<string> {
  return bcrypt.hash(`dummy-${Math.random()}-${Date.now()}`, cost);
}
