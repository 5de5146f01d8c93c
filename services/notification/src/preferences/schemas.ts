import { Type } from '@sinclair/typebox';
import { CATEGORY_KEY_PATTERN } from '../categories/schemas';
import { LOCAL_TIME_PATTERN } from './domain/quiet-hours';

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

const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone, e.g. Europe/Paris (required with quietHours)',
});

export const QuietHours = Type.Object(
  {
    start: Type.String({ pattern: LOCAL_TIME_PATTERN, description: 'local HH:MM' }),
    end: Type.String({ pattern: LOCAL_TIME_PATTERN, description: 'local HH:MM, not equal to start' }),
  },
  {
    additionalProperties: false,
    description:
      'non-critical email and SMS due inside this daily window wait for its end (in-app is delivered at once); start after end spans midnight',
  },
);

const categorySwitches = (keys: object) =>
  Type.Record(Type.String(keys), ChannelSwitches, {
    additionalProperties: false,
    maxProperties: 200,
    description: 'per category key, the channels switched for that category',
  });

export const PutPreferencesBody = Type.Object(
  {
    channels: ChannelSwitches,
    categories: categorySwitches({ pattern: CATEGORY_KEY_PATTERN }),
    timeZone: Type.Optional(TimeZone),
    quietHours: Type.Optional(QuietHours),
  },
  { additionalProperties: false },
);

const SettingsView = {
  channels: ChannelSwitches,
  categories: Type.Record(Type.String(), ChannelSwitches),
  timeZone: Type.Optional(Type.String()),
  quietHours: Type.Optional(Type.Object({ start: Type.String(), end: Type.String() })),
};

export const PreferencesView = Type.Object({
  ...SettingsView,
  updatedAt: Type.Optional(Type.String({ format: 'date-time' })),
  changes: Type.Optional(
    Type.Array(
      Type.Object({
        at: Type.String({ format: 'date-time' }),
        by: Type.String({
          description: 'a user id, an API key id, sub:<externalId>, link:<category>, or a provider',
        }),
        byKind: Type.String({ description: 'user, admin, apikey, subscriber, unsubscribe, provider' }),
        from: Type.Object(SettingsView),
        to: Type.Optional(Type.Object(SettingsView)),
      }),
      { description: 'the last changes, newest first' },
    ),
  ),
});

export const SubscriberParams = Type.Object({
  externalId: Type.String({ minLength: 1, maxLength: 128 }),
});

export const UserParams = Type.Object({
  userId: Type.String({ minLength: 1, maxLength: 128 }),
});
