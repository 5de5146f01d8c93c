import { ForbiddenError } from '@herald/runtime';
import { hasScope, Scopes, type AuthenticatedUser } from '@herald/runtime/http';
import { SYSTEM_TEMPLATES } from '../../templates/domain/system';
import { type SendInput } from './types';

/*
 * What a sender may put in a notification. A normal user notifies only
 * themself (recipients.ts), and only with content that cannot pass for
 * Herald's own: no raw HTML (attacker-written markup from the platform's
 * own sender) and no system template (a "Reset your password" email with
 * a foreign link). Admins may (users, and keys with `admin`), and so may an
 * application's API key with `templates:write`: whoever may write the
 * templates could put the same markup in one.
 */
function trustedWithMarkup(sender: AuthenticatedUser): boolean {
  return sender.role === 'admin' || (sender.kind === 'apikey' && hasScope(sender, Scopes.templatesWrite));
}

/** The sender may send literal `html` (not escaped, not from a template). */
export function canUseRawHtml(sender: AuthenticatedUser): boolean {
  return trustedWithMarkup(sender);
}

/** The sender may send one of Herald's system templates (verify-email, password-reset, welcome…). */
export function canUseSystemTemplate(sender: AuthenticatedUser): boolean {
  return trustedWithMarkup(sender);
}

const systemTemplateKeys = new Set(SYSTEM_TEMPLATES.map((template) => template.key));

export function isSystemTemplate(key: string): boolean {
  return systemTemplateKeys.has(key);
}

/** 403 when the content is one the sender may not send. */
export function assertMaySendContent(sender: AuthenticatedUser, input: Pick<SendInput, 'html' | 'template'>) {
  if (input.html !== undefined && !canUseRawHtml(sender)) {
    throw new ForbiddenError(
      'raw_html_forbidden',
      'Only administrators and API keys with templates:write may send raw html; send title and body, or a template',
    );
  }
  if (input.template && isSystemTemplate(input.template.key) && !canUseSystemTemplate(sender)) {
    throw new ForbiddenError(
      'system_template_forbidden',
      `Template "${input.template.key}" is a system template: only administrators and API keys with templates:write may send it`,
    );
  }
}
