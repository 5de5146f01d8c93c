/**
 * Control characters (CR, LF, tab, NUL, C1 …) and the Unicode line and
 * paragraph separators, with the whitespace around them.
 */
const LINE_BREAKING = /[\s\p{Cc}]*[\p{Cc}\u2028\u2029][\s\p{Cc}]*/gu;

/**
 * A value that ends up in a mail header (a subject, a display name) as one
 * line: each run of control characters or line separators becomes one
 * space, and the ends are trimmed. A CR/LF left in would let the text add
 * headers of its own (or break the message); plain double spaces are kept.
 */
export function singleLine(text: string): string {
  return text.replace(LINE_BREAKING, ' ').trim();
}
