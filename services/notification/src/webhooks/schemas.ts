import { Type } from '@sinclair/typebox';

/** Always 2xx for a genuine event, even one we cannot place, so the provider does not retry forever. */
export const WebhookAccepted = Type.Object({
  outcome: Type.Union([
    Type.Literal('applied'),
    Type.Literal('ignored'),
    Type.Literal('unknown_message'),
    Type.Literal('pending'),
  ]),
});

/** A batch of events (SendGrid posts up to a thousand at once): one outcome per event, in order. */
export const WebhookBatchAccepted = Type.Object({
  outcomes: Type.Array(WebhookAccepted.properties.outcome),
});
