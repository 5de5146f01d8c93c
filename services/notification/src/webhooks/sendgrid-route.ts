import { type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { ProblemDetails, WebhookPaths, webhookRoute } from '@herald/contracts';
import { AppError, ForbiddenError } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { keepPending } from './domain/pending-events';
import { applyProviderEvent, type EventOutcome, type ProviderEvent } from './domain/provider-events';
import { rememberEvent, wasApplied } from './domain/replay-cache';
import { isValidSendGridSignature } from './domain/signatures';
import { WebhookBatchAccepted } from './schemas';
import { NOT_SIGNED, signedWebhookBody } from './signed-body';

const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/**
 * SendGrid retries a batch it could not deliver for up to 24 hours, each
 * time signed afresh: an event id is remembered longer than that.
 */
const REMEMBER_EVENTS_MS = 72 * 3_600_000;

const SendGridEvent = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 50 }),
    sg_event_id: Type.String({ minLength: 1, maxLength: 200 }),
    timestamp: Type.Number(),
    sg_message_id: Type.Optional(Type.String({ maxLength: 300 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    reason: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    herald_notification_id: Type.Optional(Type.String({ maxLength: 64 })),
    herald_channel: Type.Optional(Type.String({ maxLength: 16 })),
  },
  // Custom args arrive as top-level fields of each event, beside SendGrid's own (which grow).
  { additionalProperties: true },
);
type SendGridEvent = Static<typeof SendGridEvent>;
const SendGridEvents = Type.Array(SendGridEvent, { minItems: 1, maxItems: 10_000 });

/** The exact bytes SendGrid signed: the JSON parser of this route keeps them. */
const rawBodies = new WeakMap<object, Buffer>();

export interface SendGridRouteDeps {
  ctx: ServiceContext;
  /** from `SENDGRID_WEBHOOK_PUBLIC_KEY`; unset, the route answers 503 */
  publicKey?: KeyObject;
  maxAgeMs: number;
  bodyLimit: number;
}

/**
 * SendGrid's Event Webhook: a JSON array of events signed with ECDSA over the
 * timestamp header and the raw body. Registered in a context of its own, as
 * its JSON parser keeps the raw bytes the signature covers.
 */
export function registerSendGridWebhook(app: HttpApp, deps: SendGridRouteDeps): void {
  void app.register(async (scope) => {
    // As the other webhooks: malformed JSON is a body nobody signed (403), not the parser's 400.
    const parseJson = scope.getDefaultJsonParser('error', 'error');
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: deps.bodyLimit },
      (request, body, done) => {
        rawBodies.set(request, body as Buffer);
        parseJson(request, (body as Buffer).toString('utf8'), (error, value) =>
          done(null, error ? undefined : value),
        );
      },
    );
    scope.post(
      webhookRoute(WebhookPaths.sendgrid),
      {
        bodyLimit: deps.bodyLimit,
        // The signature is checked before the schema (see signedWebhookBody): an unsigned caller
        // must learn nothing of the schema.
        attachValidation: true,
        schema: {
          tags: ['webhooks'],
          summary: "SendGrid's Event Webhook (ECDSA, X-Twilio-Email-Event-Webhook-Signature)",
          headers: Type.Object({
            [SIGNATURE_HEADER]: Type.Optional(Type.String({ maxLength: 500 })),
            [TIMESTAMP_HEADER]: Type.Optional(Type.String({ maxLength: 20 })),
          }),
          body: SendGridEvents,
          response: { 200: WebhookBatchAccepted, 403: ProblemDetails, 503: ProblemDetails },
        },
      },
      async (request) => {
        if (!deps.publicKey) {
          throw new AppError(503, 'webhook_not_configured', 'SendGrid webhooks are not configured');
        }
        const signature = request.headers[SIGNATURE_HEADER];
        const timestamp = request.headers[TIMESTAMP_HEADER];
        const raw = rawBodies.get(request);
        if (typeof signature !== 'string' || typeof timestamp !== 'string' || !raw) {
          throw new ForbiddenError('webhook_rejected', NOT_SIGNED);
        }
        if (!isValidSendGridSignature(deps.publicKey, timestamp, raw, signature)) {
          throw new ForbiddenError('webhook_rejected', NOT_SIGNED);
        }
        const now = deps.ctx.now();
        const signedAt = Number(timestamp) * 1000;
        if (!Number.isFinite(signedAt) || Math.abs(now.getTime() - signedAt) > deps.maxAgeMs) {
          throw new ForbiddenError('webhook_rejected', 'The signature is too old');
        }
        const signed = signedWebhookBody(request, 'sendgrid');
        // Signed by SendGrid, yet not events we understand: acknowledged (and logged), as any
        // other answer has SendGrid retry the same body for a day.
        if (!signed.valid) return { outcomes: [] };
        const outcomes: EventOutcome[] = [];
        for (const data of signed.body as SendGridEvent[]) {
          outcomes.push(await applySendGridEvent(deps.ctx, data));
        }
        request.log.info(
          { events: outcomes.length, applied: outcomes.filter((o) => o === 'applied').length },
          'sendgrid events',
        );
        return { outcomes };
      },
    );
  });
}

async function applySendGridEvent(ctx: ServiceContext, data: SendGridEvent): Promise<EventOutcome> {
  const key = `sendgrid-event:${data.sg_event_id}`;
  if (await wasApplied(ctx.models.webhookTokens, key, ctx.now())) return 'ignored';
  const event = toProviderEvent(data);
  let outcome: EventOutcome = 'ignored';
  if (event) {
    outcome = await applyProviderEvent(ctx, event);
    if (outcome === 'unknown_message') {
      await keepPending(ctx, event);
      outcome = 'pending';
    }
  }
  await rememberEvent(ctx.models.webhookTokens, key, ctx.now(), REMEMBER_EVENTS_MS);
  return outcome;
}

function toProviderEvent(data: SendGridEvent): ProviderEvent | undefined {
  // `<X-Message-Id>.filter…`: the part before the first dot is the id the send answered.
  const messageId = data.sg_message_id?.split('.')[0];
  if (!messageId) return undefined;
  if (data.herald_channel !== undefined && data.herald_channel !== 'email') return undefined;
  const base: ProviderEvent = {
    provider: 'sendgrid',
    eventId: data.sg_event_id,
    channel: 'email',
    providerMessageId: messageId,
    ...(data.herald_notification_id ? { notificationId: data.herald_notification_id } : {}),
    at: new Date(data.timestamp * 1000),
    ...(data.email ? { recipient: data.email } : {}),
  };
  // Only a bounce or a drop says why: its SMTP status (`5.1.1`) and reason.
  const reason = {
    ...(data.reason ? { reason: data.reason } : {}),
    ...(data.status ? { errorCode: data.status } : {}),
  };
  switch (data.event) {
    case 'processed':
      return { ...base, status: 'sent' };
    case 'delivered':
      return { ...base, status: 'delivered' };
    case 'bounce':
      // `blocked` is the receiving server refusing for now (reputation, content): SendGrid does
      // not list the address as bounced, and neither do we.
      if (data.type === 'blocked') return { ...base, status: 'bounced', ...reason };
      return { ...base, status: 'bounced', suppress: 'bounced', ...reason };
    case 'dropped':
      // SendGrid never tried: the address is on its own bounce, spam or unsubscribe list.
      return { ...base, status: 'bounced', suppress: 'bounced', ...reason };
    case 'open':
      return { ...base, engagement: 'opened' };
    case 'click':
      return { ...base, engagement: 'clicked' };
    case 'spamreport':
      return { ...base, engagement: 'complained', suppress: 'complained' };
    case 'unsubscribe':
      // SendGrid's global unsubscribe: SendGrid itself drops every later email to the address
      // from this account, whatever its category, so Herald suppresses it too
      return { ...base, engagement: 'unsubscribed', suppress: 'unsubscribed' };
    case 'group_unsubscribe':
      // out of one group (a kind of mail): the category's preference, as the one-click link does
      return { ...base, engagement: 'unsubscribed', unsubscribe: true, suppress: 'unsubscribed' };
    default:
      // `deferred` is SendGrid retrying: nothing is decided yet. Others are not ours to track.
      return undefined;
  }
}
