export type EmailRejection = 'syntax' | 'too_long' | 'disposable';

export interface EmailCheck {
  valid: boolean;
  normalized: string;
  reason?: EmailRejection;
}

// Plain JSON arrays without type declarations; a require keeps the type checker off 120k entries.
/* eslint-disable @typescript-eslint/no-require-imports */
const DISPOSABLE = new Set<string>([
  ...(require('disposable-email-domains') as string[]),
  // domains whose every subdomain is throwaway; the parent-domain walk below covers them
  ...(require('disposable-email-domains/wildcard.json') as string[]),
]);
/* eslint-enable @typescript-eslint/no-require-imports */

// Practical RFC 5322: a dot-atom local part (no quoted strings, no comments),
// a hostname of LDH labels and an alphabetic TLD — what mail providers accept.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const TLD = /^(?:[a-z]{2,}|xn--[a-z0-9-]+)$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Syntax, RFC 5321 length limits and the disposable-domain list; no network lookups. */
export function checkEmail(email: string): EmailCheck {
  const normalized = normalizeEmail(email);
  const reject = (reason: EmailRejection): EmailCheck => ({ valid: false, normalized, reason });

  const at = normalized.lastIndexOf('@');
  if (at <= 0 || at === normalized.length - 1) return reject('syntax');
  const local = normalized.slice(0, at);
  const domain = normalized.slice(at + 1);
  if (normalized.length > 254 || local.length > 64 || domain.length > 253) return reject('too_long');
  if (!LOCAL_PART.test(local)) return reject('syntax');

  const labels = domain.split('.');
  if (labels.length < 2) return reject('syntax');
  if (labels.some((label) => label.length > 63)) return reject('too_long');
  if (!labels.every((label) => DOMAIN_LABEL.test(label)) || !TLD.test(labels[labels.length - 1]!)) {
    return reject('syntax');
  }
  if (isDisposableDomain(labels)) return reject('disposable');
  return { valid: true, normalized };
}

/** The domain or any parent of it is on the list: `x.mailinator.com` is as throwaway as `mailinator.com`. */
function isDisposableDomain(labels: string[]): boolean {
  for (let start = 0; start < labels.length - 1; start += 1) {
    if (DISPOSABLE.has(labels.slice(start).join('.'))) return true;
  }
  return false;
}
