import { Type, type Static } from '@sinclair/typebox';
import { ProblemDetails, WebhookPaths, webhookRoute } from '@herald/contracts';
import { AppError, ValidationError, type FieldError } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { applyProviderEvent, type ProviderEvent } from './domain/provider-events';
import { keepPending } from './domain/pending-events';
import { recordToken } from './domain/replay-cache';
import { isValidMailgunSignature } from './domain/signatures';
import { NOT_SIGNED, signedWebhookBody } from './signed-body';
import { WebhookAccepted } from './schemas';

const MailgunWebhook = Type.Object({
  signature: Type.Object({
    timestamp: Type.String({ minLength: 1, maxLength: 20 }),
    token: Type.String({ minLength: 1, maxLength: 200 }),
    signature: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  'event-data': Type.Object({
    id: Type.String({ minLength: 1, maxLength: 200 }),
    event: Type.String({ minLength: 1, maxLength: 50 }),
    timestamp: Type.Number(),
    recipient: Type.Optional(Type.String({ maxLength: 320 })),
    severity: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    'delivery-status': Type.Optional(
      Type.Object({
        code: Type.Optional(Type.Number()),
        message: Type.Optional(Type.String()),
        description: Type.Optional(Type.String()),
      }),
    ),
    'user-variables': Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    message: Type.Optional(
      Type.Object({ headers: Type.Optional(Type.Object({ 'message-id': Type.Optional(Type.String()) })) }),
    ),
  }),
});
type MailgunWebhook = Static<typeof MailgunWebhook>;

/** 406 is the answer after which Mailgun stops retrying: right for a webhook that is not genuine. */
class NotAcceptableWebhook extends AppError {
  constructor(detail: string) {
    super(406, 'webhook_rejected', detail);
  }
}

/** A body Mailgun signed that fails the schema: 406 too, but with the fields, as Mailgun sent it. */
class InvalidSignedWebhook extends ValidationError {
  override readonly status: number = 406;

  constructor(errors: FieldError[]) {
    super('The webhook does not match the expected event schema', errors, 'webhook_invalid');
  }
}

/** The signature block, read from a body no schema has checked yet: anything else is unsigned. */
function signatureBlockOf(body: unknown): MailgunWebhook['signature'] | undefined {
  const block = (body as { signature?: unknown } | null | undefined)?.signature as
    Record<string, unknown> | undefined;
  if (typeof block !== 'object' || block === null) return undefined;
  const { timestamp, token, signature } = block;
  if (typeof timestamp !== 'string' || typeof token !== 'string' || typeof signature !== 'string') {
    return undefined;
  }
  return { timestamp, token, signature };
}

export interface WebhookRouteDeps {
  ctx: ServiceContext;
  signingKey?: string;
  maxAgeMs: number;
  bodyLimit: number;
}

export function registerMailgunWebhook(app: HttpApp, deps: WebhookRouteDeps): void {
  app.post(
    webhookRoute(WebhookPaths.mailgun),
    {
      bodyLimit: deps.bodyLimit,
      // The signature is checked before the body's schema (see signedWebhookBody): an unsigned
      // caller must learn nothing of the schema, and a 400 would have Mailgun retry.
      attachValidation: true,
      schema: {
        tags: ['webhooks'],
        summary: "Mailgun's event webhook (signed with the webhook signing key)",
        body: MailgunWebhook,
        response: { 200: WebhookAccepted, 406: ProblemDetails, 503: ProblemDetails },
      },
    },
    async (request) => {
      if (!deps.signingKey) {
        throw new AppError(503, 'webhook_not_configured', 'Mailgun webhooks are not configured');
      }
      const signature = signatureBlockOf(request.body);
      if (!signature || !isValidMailgunSignature(deps.signingKey, signature)) {
        // One answer for every unsigned or forged body, whatever is wrong with it.
        throw new NotAcceptableWebhook(NOT_SIGNED);
      }
      const now = deps.ctx.now();
      const signedAt = Number(signature.timestamp) * 1000;
      if (!Number.isFinite(signedAt) || Math.abs(now.getTime() - signedAt) > deps.maxAgeMs) {
        throw new NotAcceptableWebhook('The signature is too old');
      }
      if (!(await recordToken(deps.ctx.models.webhookTokens, signature.token, now, deps.maxAgeMs * 2))) {
        throw new NotAcceptableWebhook('The signature token was already used');
      }
      const signed = signedWebhookBody(request, 'mailgun');
      // Signed by Mailgun, yet not what we understand: a resend would not change that, so 406
      // (Mailgun stops retrying; its log shows our answer, field errors included).
      if (!signed.valid) throw new InvalidSignedWebhook(signed.errors);
      const { body } = signed;
      const event = toProviderEvent(body['event-data']);
      if (!event) return { outcome: 'ignored' as const };
      let outcome = await applyProviderEvent(deps.ctx, event);
      if (outcome === 'unknown_message') {
        await keepPending(deps.ctx, event);
        outcome = 'pending';
      }
      request.log.info({ event: event.eventId, kind: body['event-data'].event, outcome }, 'mailgun event');
      return { outcome };
    },
  );
}

function toProviderEvent(data: MailgunWebhook['event-data']): ProviderEvent | undefined {
  const messageId = data.message?.headers?.['message-id'];
  if (!messageId) return undefined;
  const variables = data['user-variables'] ?? {};
  const notificationId =
    typeof variables['notification-id'] === 'string' ? variables['notification-id'] : undefined;
  const deliveryStatus = data['delivery-status'];
  const base: ProviderEvent = {
    provider: 'mailgun',
    eventId: data.id,
    channel: 'email',
    providerMessageId: messageId,
    ...(notificationId ? { notificationId } : {}),
    at: new Date(data.timestamp * 1000),
    ...(data.recipient ? { recipient: data.recipient } : {}),
    ...(deliveryStatus?.code !== undefined ? { errorCode: String(deliveryStatus.code) } : {}),
  };
  const reason = data.reason ?? deliveryStatus?.description ?? deliveryStatus?.message;
  switch (data.event) {
    case 'accepted':
      return { ...base, status: 'sent' };
    case 'delivered':
      return { ...base, status: 'delivered' };
    case 'failed':
      // A temporary failure is Mailgun retrying: nothing has been decided yet.
      if (data.severity !== 'permanent') return undefined;
      return { ...base, status: 'bounced', suppress: 'bounced', ...(reason ? { reason } : {}) };
    case 'opened':
    case 'clicked':
      return { ...base, engagement: data.event };
    case 'complained':
      return { ...base, engagement: 'complained', suppress: 'complained' };
    case 'unsubscribed':
      // the recipient's preference, like the List-Unsubscribe link; an outside address has none
      // and is suppressed instead (see applyProviderEvent)
      return { ...base, engagement: 'unsubscribed', unsubscribe: true, suppress: 'unsubscribed' };
    default:
      return undefined;
  }
}
