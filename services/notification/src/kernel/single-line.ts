/**
 * Control characters (CR, LF, tab, NUL, C1 …) and the Unicode line and
 * paragraph separators, with the whitespace around them.
 */
const LINE_BREAKING = /[\s\p{Cc}]*[\p{Cc}\u2028\u2029][\s\p{Cc}]*/gu;
/** Whether a text holds any of them: \p{Cc} is U+0000–U+001F and U+007F–U+009F. */
// eslint-disable-next-line no-control-regex
const BREAKS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A value that ends up in a mail header (a subject, a display name) as one
 * line: each run of control characters or line separators becomes one
 * space, and the ends are trimmed. A CR/LF left in would let the text add
 * headers of its own (or break the message); plain double spaces are kept.
 */
export function singleLine(text: string): string {
  // most text has none: a plain test first (every title of the accept path passes here)
  return BREAKS.test(text) ? text.replace(LINE_BREAKING, ' ').trim() : text.trim();
}
