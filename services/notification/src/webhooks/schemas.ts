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
