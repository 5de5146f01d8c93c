/**
 * Picks the variant to render: each preference in turn (the request's
 * locale, then the recipient's), each with its region fallback
 * (`pt-BR` → `pt`, `zh-Hant-TW` → `zh-Hant` → `zh`), then the template's
 * default. Matching ignores case; the answer is the variant's own key, the
 * locale actually used, which the notification records.
 */
export function resolveLocale(
  available: readonly string[],
  preferences: readonly (string | undefined | null)[],
  fallback: string,
): string {
  const byLowerCase = new Map(available.map((locale) => [locale.toLowerCase(), locale]));
  for (const preference of preferences) {
    if (!preference) continue;
    const subtags = preference.toLowerCase().split('-');
    for (let length = subtags.length; length > 0; length -= 1) {
      const found = byLowerCase.get(subtags.slice(0, length).join('-'));
      if (found) return found;
    }
  }
  return fallback;
}
