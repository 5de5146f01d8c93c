import { Type, type Static } from '@sinclair/typebox';
import { Channel, CursorPage, CursorQuery } from '@herald/contracts';
import { DeadLetterStates } from './data/model';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableDateTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const DeadLetterIdParams = Type.Object({
  id: Type.String({ pattern: '^[0-9a-fA-F]{24}$', description: 'the dead letter id' }),
});
export type DeadLetterIdParams = Static<typeof DeadLetterIdParams>;

export const DeadLetterListQuery = Type.Composite([
  CursorQuery,
  Type.Object({
    reason: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: '`permanent_error`, `retries_exhausted`, `invalid_message`, or the broker’s own',
      }),
    ),
    channel: Type.Optional(Channel),
    notificationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    state: Type.Optional(Type.Union(DeadLetterStates.map((state) => Type.Literal(state)))),
  }),
]);
export type DeadLetterListQuery = Static<typeof DeadLetterListQuery>;

export const DeadLetterReplay = Type.Object({
  by: Type.String({ description: 'the admin who replayed it' }),
  startedAt: Type.String({ format: 'date-time' }),
  replayedAt: NullableDateTime,
  exchange: NullableString,
  routingKey: NullableString,
});

export const DeadLetterSummary = Type.Object(
  {
    id: Type.String(),
    state: Type.Union(DeadLetterStates.map((state) => Type.Literal(state))),
    reason: Type.String(),
    errorCode: NullableString,
    lastError: NullableString,
    attempts: Type.Integer({ minimum: 1 }),
    messageId: NullableString,
    correlationId: NullableString,
    messageType: NullableString,
    notificationId: NullableString,
    channel: NullableString,
    originalQueue: NullableString,
    firstFailedAt: NullableDateTime,
    deadLetteredAt: Type.String({ format: 'date-time' }),
    receivedAt: Type.String({ format: 'date-time' }),
    replay: Type.Union([DeadLetterReplay, Type.Null()]),
  },
  { title: 'DeadLetterSummary' },
);
export type DeadLetterSummary = Static<typeof DeadLetterSummary>;

export const DeadLetterDetail = Type.Composite(
  [
    DeadLetterSummary,
    Type.Object({
      originalExchange: NullableString,
      originalRoutingKey: NullableString,
      contentType: NullableString,
      validEnvelope: Type.Boolean({ description: 'the body is a Herald message that passes its schema' }),
      headers: Type.Record(Type.String(), Type.Unknown()),
      body: Type.Object(
        {
          encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
          data: Type.String(),
        },
        { description: 'the exact bytes: as text when they are UTF-8, else base64' },
      ),
      payload: Type.Optional(Type.Unknown({ description: 'the body parsed, when it is JSON' })),
    }),
  ],
  { title: 'DeadLetterDetail' },
);
export type DeadLetterDetail = Static<typeof DeadLetterDetail>;

export const DeadLetterPage = CursorPage(DeadLetterSummary);
