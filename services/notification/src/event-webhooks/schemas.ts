import { Type, type Static } from '@sinclair/typebox';
import { EventWebhookType } from '@herald/contracts';

const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'an http(s) URL at a public address' });
const EventTypes = Type.Array(EventWebhookType, { minItems: 1, maxItems: 20, uniqueItems: true });
const Description = Type.String({ maxLength: 500 });
const FilterValues = (what: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
    maxItems: 50,
    uniqueItems: true,
    description: `only notifications of these ${what}; empty: all`,
  });

export const CreateEndpointBody = Type.Object(
  {
    url: Url,
    eventTypes: EventTypes,
    description: Type.Optional(Description),
    categories: Type.Optional(FilterValues('categories')),
    tenants: Type.Optional(FilterValues('tenants')),
  },
  { additionalProperties: false },
);
export type CreateEndpointBody = Static<typeof CreateEndpointBody>;

export const UpdateEndpointBody = Type.Object(
  {
    url: Type.Optional(Url),
    eventTypes: Type.Optional(EventTypes),
    description: Type.Optional(Description),
    categories: Type.Optional(FilterValues('categories')),
    tenants: Type.Optional(FilterValues('tenants')),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const EndpointParams = Type.Object({ id: Type.String({ pattern: '^ep_[0-9a-f]{24}$' }) });
export const DeliveryParams = Type.Object({
  id: Type.String({ pattern: '^ep_[0-9a-f]{24}$' }),
  deliveryId: Type.String({ pattern: '^msg_[A-Za-z0-9_-]{1,64}$' }),
});

export const EndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.Optional(Type.String()),
  eventTypes: Type.Array(Type.String()),
  categories: Type.Optional(Type.Array(Type.String())),
  tenants: Type.Optional(Type.Array(Type.String())),
  disabled: Type.Boolean(),
  disabledAt: Type.Optional(Type.String({ format: 'date-time' })),
  disabledReason: Type.Optional(Type.String()),
  failingSince: Type.Optional(Type.String({ format: 'date-time' })),
  consecutiveFailures: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const CreatedEndpoint = Type.Intersect([
  EndpointView,
  Type.Object({ secret: Type.String({ description: 'whsec_…: shown once; signs every delivery' }) }),
]);

export const RotatedSecret = Type.Object({
  secret: Type.String({ description: 'the new whsec_… secret, shown once' }),
  previousSecretExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'until then the old secret signs too (a second v1 signature)',
  }),
});

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const EndpointList = Type.Object({
  items: Type.Array(EndpointView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const DeliveriesQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
    status: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    ),
    notificationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const DeliveryView = Type.Object({
  id: Type.String({ description: 'the webhook-id' }),
  eventType: Type.String(),
  notificationId: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
  deliveredAt: Type.Optional(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  payload: Type.Unknown(),
  log: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      statusCode: Type.Optional(Type.Integer()),
      latencyMs: Type.Integer(),
      responseExcerpt: Type.Optional(Type.String()),
      error: Type.Optional(Type.String()),
    }),
  ),
});

export const DeliveryList = Type.Object({
  items: Type.Array(DeliveryView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
