/* How a notification stores its provider message ids (`providerMessageIds`), so webhooks find it. */

/** Mailgun's send response says `<id@domain>`, its events say `id@domain`: both become the latter. */
export function normaliseProviderMessageId(id: string): string {
  return id.trim().replace(/^<|>$/g, '');
}
