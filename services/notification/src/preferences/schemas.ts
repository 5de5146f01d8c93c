import { Type } from '@sinclair/typebox';
import { CATEGORY_KEY_PATTERN } from '../categories/schemas';

/** Per channel on (`true`) or off (`false`); a channel not named stays on. Unknown channels: 400. */
export const ChannelSwitches = Type.Object(
  {
    in_app: Type.Optional(Type.Boolean()),
    email: Type.Optional(Type.Boolean()),
    sms: Type.Optional(Type.Boolean()),
    push: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PutPreferencesBody = Type.Object(
  {
    channels: ChannelSwitches,
    categories: Type.Record(Type.String({ pattern: CATEGORY_KEY_PATTERN }), ChannelSwitches, {
      additionalProperties: false,
      maxProperties: 200,
      description: 'per category key, the channels switched for that category',
    }),
  },
  { additionalProperties: false },
);

export const PreferencesView = Type.Object({
  channels: ChannelSwitches,
  categories: Type.Record(Type.String(), ChannelSwitches),
  updatedAt: Type.Optional(Type.String({ format: 'date-time' })),
  changes: Type.Optional(
    Type.Array(
      Type.Object({ at: Type.String({ format: 'date-time' }), by: Type.String(), byKind: Type.String() }),
    ),
  ),
});

export const SubscriberParams = Type.Object({
  externalId: Type.String({ minLength: 1, maxLength: 128 }),
});
