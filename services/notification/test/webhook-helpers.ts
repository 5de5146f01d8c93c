import { MessageTypes, createMessage } from '@herald/contracts';
import { type FakeMailgun, type RecordedRequest } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { type Harness, type Json } from './harness';

/**
 * Acts as the delivery worker would for an email: sends it through the fake
 * Mailgun (with the `v:` variables the worker sets) and reports `sent` with
 * the send response's id, angle brackets and all.
 */
export async function sendThroughMailgun(
  h: Harness,
  mailgun: FakeMailgun,
  notificationId: string,
  to: string,
  options: { reportSent?: boolean } = {},
): Promise<RecordedRequest> {
  const form = new URLSearchParams({
    from: 'Herald <noreply@mg.example.com>',
    to,
    subject: 'Receipt',
    text: 'Thanks',
    'v:notification-id': notificationId,
    'v:channel': 'email',
  });
  const response = await fetch(`${mailgun.url}/v3/mg.example.com/messages`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`api:${mailgun.apiKey}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  const sent = (await response.json()) as { id: string };
  if (options.reportSent !== false) await reportSent(h, notificationId, sent.id);
  const recorded = mailgun.requests.find((request) => request.messageId === sent.id);
  if (!recorded) throw new Error('the fake did not record the send');
  return recorded;
}

export async function reportSent(h: Harness, notificationId: string, providerMessageId: string) {
  await h.publishEvent(
    'delivery.status',
    createMessage(
      MessageTypes.deliveryStatus,
      {
        notificationId,
        channel: 'email',
        status: 'sent',
        attempt: 1,
        at: new Date().toISOString(),
        provider: 'mailgun',
        providerMessageId,
      },
      { correlationId: 'worker-test' },
    ),
  );
}

export async function postMailgun(h: Harness, body: Record<string, unknown>) {
  return h.request('POST', '/api/v1/webhooks/mailgun', { body });
}

export async function emailStatus(h: Harness, id: string): Promise<Json> {
  return h.stored(id);
}

export async function untilEmailStatus(h: Harness, id: string, status: string): Promise<Json> {
  return waitFor(
    async () => {
      const record: Json = await emailStatus(h, id);
      return record?.deliveries.email?.status === status ? record : undefined;
    },
    { description: `email ${status}` },
  );
}
