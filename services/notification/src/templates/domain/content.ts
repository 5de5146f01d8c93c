import { type FieldError } from '@herald/runtime';
import { type Channel } from '@herald/contracts';
import { type LocaleVariant, type TemplateContent, type VariablesSchema } from '../data/content-types';

export type { TemplateContent };

/** The parts of a variant, each with the field name used in errors (`/locales/fr/inApp/title`). */
export type PartName = 'subject' | 'text' | 'html' | 'sms' | 'inApp/title' | 'inApp/body';
export const PART_NAMES: readonly PartName[] = [
  'subject',
  'text',
  'html',
  'sms',
  'inApp/title',
  'inApp/body',
];

export function partSource(variant: LocaleVariant, part: PartName): string | undefined {
  switch (part) {
    case 'inApp/title':
      return variant.inApp?.title;
    case 'inApp/body':
      return variant.inApp?.body;
    default:
      return variant[part];
  }
}

export const EMPTY_VARIABLES: VariablesSchema = { type: 'object' };

/** The parts a channel cannot do without; email needs a body in html or text (text is generated from html). */
export function missingParts(channel: Channel, variant: LocaleVariant): string[] {
  switch (channel) {
    case 'email':
      return [
        ...(variant.subject ? [] : ['subject']),
        ...(variant.html || variant.text ? [] : ['html or text']),
      ];
    case 'sms':
      return variant.sms ? [] : ['sms'];
    // a Web Push notification shows the in-app title and body
    case 'in_app':
    case 'push':
      return variant.inApp ? [] : ['inApp'];
  }
}

/** `Intl` knows BCP 47: `PT-br` → `pt-BR`; an ill-formed tag is reported, never stored. */
export function canonicalLocale(tag: string): string | null {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Puts the locale keys (and the default) in canonical form, so a lookup
 * never depends on how an admin typed the case; two keys that are the same
 * locale are an error.
 */
export function normalizeLocales(
  content: TemplateContent,
  pointer: string,
): { content: TemplateContent; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const locales: Record<string, LocaleVariant> = {};
  for (const [tag, variant] of Object.entries(content.locales)) {
    const canonical = canonicalLocale(tag);
    if (!canonical) {
      errors.push({ field: `${pointer}/locales/${tag}`, message: 'is not a valid locale tag' });
      continue;
    }
    if (locales[canonical]) {
      errors.push({ field: `${pointer}/locales/${tag}`, message: `is the same locale as ${canonical}` });
      continue;
    }
    locales[canonical] = variant;
  }
  const defaultLocale = canonicalLocale(content.defaultLocale) ?? content.defaultLocale;
  if (!locales[defaultLocale]) {
    errors.push({
      field: `${pointer}/defaultLocale`,
      message: `has no variant in locales (${defaultLocale})`,
    });
  }
  return { content: { ...content, locales, defaultLocale }, errors };
}
