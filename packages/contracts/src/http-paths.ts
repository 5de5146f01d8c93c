/**
 * Public HTTP paths that more than one part of Herald names: the routes that
 * serve them, the worker that tells a provider where to call back, the fake
 * providers, the gateway and the tests. A deployed path is never renamed
 * (providers keep calling the old one).
 */
export const API_PREFIX = '/api/v1';

export const WebhookPaths = {
  /** prefix of every provider webhook; these routes carry no token, each checks its provider's signature */
  prefix: `${API_PREFIX}/webhooks`,
  mailgun: `${API_PREFIX}/webhooks/mailgun`,
  twilio: `${API_PREFIX}/webhooks/twilio`,
  sendgrid: `${API_PREFIX}/webhooks/sendgrid`,
} as const;

/** The path of a webhook below `WebhookPaths.prefix`, for registering the route inside that prefix. */
export function webhookRoute(path: (typeof WebhookPaths)['mailgun' | 'twilio' | 'sendgrid']): string {
  return path.slice(WebhookPaths.prefix.length);
}
