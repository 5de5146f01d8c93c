import { Type } from '@sinclair/typebox';
import { ApiKeyId, ApiKeyScope } from '@herald/contracts';

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    scopes: Type.Array(ApiKeyScope, { minItems: 1, maxItems: 6, uniqueItems: true }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'absent: never expires' })),
  },
  { additionalProperties: false },
);

export const RotateApiKeyBody = Type.Object(
  {
    gracePeriodSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 7 * 86_400,
        description: 'how long the old secret keeps working; 0 or absent: it stops at once',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ApiKeyIdParams = Type.Object({ id: ApiKeyId }, { additionalProperties: false });

export const ApiKeyListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);

const Instant = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const ApiKeyView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'hk_<id>_…: enough to recognise the key, not to use it' }),
    scopes: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Instant,
    lastUsedAt: Type.Union([Type.String({ format: 'date-time', description: 'to the minute' }), Type.Null()]),
    revokedAt: Instant,
  },
  { title: 'ApiKey' },
);

export const ApiKeyWithSecretView = Type.Composite(
  [
    ApiKeyView,
    Type.Object({
      key: Type.String({ description: 'hk_<id>_<secret>: shown this once; store it now' }),
    }),
  ],
  { title: 'NewApiKey' },
);

export const ApiKeyList = Type.Object({
  items: Type.Array(ApiKeyView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
