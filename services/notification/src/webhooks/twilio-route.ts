import { Type } from '@sinclair/typebox';
import { ProblemDetails, WebhookPaths, webhookRoute } from '@herald/contracts';
import { AppError, ForbiddenError } from '@herald/runtime';
import { type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { keepPending } from './domain/pending-events';
import { applyProviderEvent, type ProviderEvent } from './domain/provider-events';
import { WebhookAccepted } from './schemas';
import { isValidTwilioSignature } from './domain/signatures';
import { NOT_SIGNED, signedWebhookBody } from './signed-body';

const TwilioStatusCallback = Type.Object(
  {
    MessageSid: Type.String({ minLength: 1, maxLength: 64 }),
    MessageStatus: Type.String({ minLength: 1, maxLength: 32 }),
    ErrorCode: Type.Optional(Type.String({ maxLength: 16 })),
    To: Type.Optional(Type.String({ maxLength: 32 })),
  },
  // Twilio adds fields over time; every one of them is part of the signature.
  { additionalProperties: Type.String() },
);

/** The posted form as the signature covers it; a body of any other shape is not Twilio's. */
function formFieldsOf(body: unknown): Record<string, string> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const entries = Object.entries(body);
  return entries.every(([, value]) => typeof value === 'string')
    ? (Object.fromEntries(entries) as Record<string, string>)
    : undefined;
}

/** Twilio error codes after which the number must not be texted again. */
const SUPPRESSING_ERRORS = new Set(['21610']);

export interface TwilioRouteDeps {
  ctx: ServiceContext;
  authToken?: string;
  /** where Twilio reaches us, e.g. `https://herald.example.com`: the signed URL starts with it */
  publicBaseUrl: string;
  bodyLimit: number;
}

export function registerTwilioWebhook(app: HttpApp, deps: TwilioRouteDeps): void {
  // Fastify parses no forms; Twilio posts nothing else. Scoped to this plugin only.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: deps.bodyLimit },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.post(
    webhookRoute(WebhookPaths.twilio),
    {
      bodyLimit: deps.bodyLimit,
      // The signature is checked before the schema (see signedWebhookBody): an unsigned caller
      // must learn nothing of the schema.
      attachValidation: true,
      schema: {
        tags: ['webhooks'],
        summary: "Twilio's message status callback (X-Twilio-Signature)",
        consumes: ['application/x-www-form-urlencoded'],
        headers: Type.Object({ 'x-twilio-signature': Type.Optional(Type.String({ maxLength: 200 })) }),
        body: TwilioStatusCallback,
        response: { 200: WebhookAccepted, 403: ProblemDetails, 503: ProblemDetails },
      },
    },
    async (request) => {
      if (!deps.authToken) {
        throw new AppError(503, 'webhook_not_configured', 'Twilio webhooks are not configured');
      }
      // The URL Twilio called is the gateway's, not ours: rebuilt from the configured public base.
      const url = deps.publicBaseUrl.replace(/\/+$/, '') + request.url;
      const fields = formFieldsOf(request.body);
      const signature = request.headers['x-twilio-signature'];
      if (!fields || typeof signature !== 'string') throw new ForbiddenError('webhook_rejected', NOT_SIGNED);
      if (!isValidTwilioSignature(deps.authToken, url, fields, signature)) {
        throw new ForbiddenError('webhook_rejected', NOT_SIGNED);
      }
      const signed = signedWebhookBody(request, 'twilio');
      // Signed by Twilio, yet not a status callback we understand: acknowledged and ignored, as
      // an error would only fill Twilio's debugger and a retry would carry the same body.
      if (!signed.valid) return { outcome: 'ignored' as const };
      const params = signed.body as Record<string, string>;
      const event = toProviderEvent(params, deps.ctx.now());
      if (!event) return { outcome: 'ignored' as const };
      let outcome = await applyProviderEvent(deps.ctx, event);
      if (outcome === 'unknown_message') {
        await keepPending(deps.ctx, event);
        outcome = 'pending';
      }
      request.log.info(
        { sid: event.providerMessageId, status: params.MessageStatus, outcome },
        'twilio callback',
      );
      return { outcome };
    },
  );
}

function toProviderEvent(params: Record<string, string>, now: Date): ProviderEvent | undefined {
  const sid = params.MessageSid!;
  const status = params.MessageStatus!;
  const base: ProviderEvent = {
    provider: 'twilio',
    // Twilio has no event id: one callback per (message, status).
    eventId: `${sid}:${status}`,
    channel: 'sms',
    providerMessageId: sid,
    at: now,
    ...(params.To ? { recipient: params.To } : {}),
    ...(params.ErrorCode ? { errorCode: params.ErrorCode } : {}),
  };
  switch (status) {
    case 'sent':
      return { ...base, status: 'sent' };
    case 'delivered':
    case 'read':
      return { ...base, status: 'delivered' };
    case 'undelivered':
    case 'failed':
      // Twilio had accepted the message: a failure now is a bounce (see decideTransition).
      return {
        ...base,
        status: 'bounced',
        reason: `Twilio reported ${status}`,
        ...(params.ErrorCode && SUPPRESSING_ERRORS.has(params.ErrorCode)
          ? { suppress: 'unsubscribed' as const }
          : {}),
      };
    default:
      return undefined;
  }
}
