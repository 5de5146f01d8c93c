/*
 * Header values built from job data. Mailgun writes the fields we send (subject, the To
 * mailbox, tags, `v:` variables) into the message's header block, so a value that
 * carries a line break could end its header and start another (`Bcc:` …), and a display
 * name that carries `,` or `<…>` could add an address. Every such value goes through here.
 */

/**
 * Control characters (C0 with CR, LF, NUL and TAB, DEL, C1 with NEL) and the Unicode line and
 * paragraph separators: anything a mail system might take for the end of a line. A run of them,
 * with the whitespace around it, becomes one space.
 */
const LINE_BREAKING_RUN = /\s*[\p{Cc}\p{Zl}\p{Zp}][\s\p{Cc}\p{Zl}\p{Zp}]*/gu;

/**
 * The longest subject we send: RFC 5322 allows 998 octets per header line, and `Subject: `
 * takes 9 of them, so a plain ASCII subject this long still fits one unfolded line; a non-ASCII
 * one is written as RFC 2047 encoded words, which are folded anyway. The notification service
 * accepts template subjects of up to 998 characters, but rendering can lengthen them: the
 * worker is the last place that can bound the header.
 */
export const MAX_SUBJECT_LENGTH = 998 - 'Subject: '.length;

/**
 * The longest display name we send. Even with every character escaped (2 octets each), the name
 * in quotes and the longest address SMTP carries (254) fit one 998-octet `To:` line.
 */
export const MAX_DISPLAY_NAME_LENGTH = 200;

/** Mailgun's own limit for a tag. */
export const MAX_TAG_LENGTH = 128;

/** The shortest subject a mail client shows without cutting it (RFC 5322 recommends 78 per line). */
const DERIVED_SUBJECT_LENGTH = 78;

/** One line of text: every run of control or line-breaking characters collapsed to a space, trimmed. */
export function singleLine(value: string): string {
  return value.replace(LINE_BREAKING_RUN, ' ').trim();
}

/** One line, at most `max` code points (a surrogate pair is never split); a cut value ends in `…`. */
export function headerText(value: string, max: number): string {
  const line = singleLine(value);
  const codePoints = Array.from(line);
  if (codePoints.length <= max) return line;
  return `${codePoints
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** The subject of a job: its own, or the first line of its text (as a mail client would show it). */
export function emailSubject(subject: string | undefined, text: string): string {
  if (subject !== undefined) {
    const line = headerText(subject, MAX_SUBJECT_LENGTH);
    if (line) return line;
  }
  const firstLine = text.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/u, 1)[0]!;
  return headerText(firstLine, DERIVED_SUBJECT_LENGTH) || 'Notification';
}

/**
 * RFC 5322 `atext` and spaces: a display name of only these is a plain phrase. Anything else
 * (`"`, `\`, `,`, `;`, `:`, `@`, `<`, `>`, `.`, `(`, non-ASCII …) is sent as a quoted-string.
 */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;

/**
 * The To mailbox, `Name <address>`: the name on one line, bounded, and quoted with `\"` and `\\`
 * escaped whenever it is more than a plain phrase, so it can never end the header, close the
 * quotes, or add an address or a group. The address is already checked by the job's schema
 * (`EmailAddress`: no spaces, quotes, angle brackets, commas or control characters).
 */
export function mailbox(address: string, name: string | undefined): string {
  const display = name === undefined ? '' : headerText(name, MAX_DISPLAY_NAME_LENGTH);
  if (!display) return address;
  const phrase = PLAIN_PHRASE.test(display) ? display : `"${display.replace(/["\\]/g, '\\$&')}"`;
  return `${phrase} <${address}>`;
}

/**
 * The job's own message headers (List-Unsubscribe …), each value on one line. The contract
 * already allows only known names and values without line breaks; this is the last guard.
 */
export function jobHeaders(
  headers: Readonly<Record<string, string | undefined>> | undefined,
): [string, string][] {
  return Object.entries(headers ?? {})
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => [name, singleLine(value)] as [string, string])
    .filter(([, value]) => value !== '');
}
