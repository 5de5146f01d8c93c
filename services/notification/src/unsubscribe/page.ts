/*
 * The pages of the link, as small and inert as a page can be: no script, no
 * external resource, a form that posts back to the same URL (its CSP allows
 * nothing else), never cached, never indexed, and never sending the token
 * on as a referrer.
 */

export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
} as const;

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font:inherit;padding:.5rem 1rem}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

/** GET: what the link would do, and the button that does it (a GET never unsubscribes: mail scanners follow links). */
export function confirmationPage(categoryName: string, token: string, alreadyMuted: boolean): string {
  if (alreadyMuted) {
    return page('You are unsubscribed', `<p>You no longer receive “${escapeHtml(categoryName)}” emails.</p>`);
  }
  return page(
    'Unsubscribe?',
    `<p>Stop receiving “${escapeHtml(categoryName)}” emails?</p>
<form method="post" action="?token=${escapeHtml(encodeURIComponent(token))}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>`,
  );
}

export function unsubscribedPage(categoryName: string): string {
  return page(
    'You are unsubscribed',
    `<p>You will no longer receive “${escapeHtml(categoryName)}” emails.</p>`,
  );
}

export function invalidLinkPage(expired: boolean): string {
  return page(
    expired ? 'This link has expired' : 'This link is not valid',
    '<p>Nothing was changed. Use the link of a more recent email, or your preferences in the application.</p>',
  );
}
