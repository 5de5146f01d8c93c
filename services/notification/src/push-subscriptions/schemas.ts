import { Type } from '@sinclair/typebox';
import { PushSubscriptionKeys } from '@herald/contracts';

/** What `PushSubscription.toJSON()` gives in the browser (`expirationTime` is accepted and ignored). */
export const CreatePushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: 2048, description: "the push service's URL (https)" }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: PushSubscriptionKeys,
  },
  { additionalProperties: false },
);

export const DeletePushSubscriptionBody = Type.Object(
  { endpoint: Type.String({ minLength: 1, maxLength: 2048 }) },
  { additionalProperties: false },
);

export const PushSubscriptionView = Type.Object(
  {
    id: Type.String(),
    endpoint: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'PushSubscription' },
);

export const PushSubscriptionList = Type.Object({ subscriptions: Type.Array(PushSubscriptionView) });

export const VapidPublicKey = Type.Object(
  {
    publicKey: Type.String({
      description: 'base64url: pass as applicationServerKey to pushManager.subscribe',
    }),
  },
  { title: 'VapidPublicKey' },
);
