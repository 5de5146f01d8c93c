import { Schema, type Connection, type Model } from 'mongoose';
import { type Channel } from '@herald/contracts';

/** Per channel: `false` mutes it, `true` or absent leaves it on. */
export type ChannelSwitches = Partial<Record<Channel, boolean>>;

/** A daily window, local times `HH:MM` in the recipient's time zone; `start` after `end` spans midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

/** What a recipient set: stored as given (category keys may hold dots, so not as field names). */
export interface PreferenceSettings {
  channels: ChannelSwitches;
  categories: { category: string; channels: ChannelSwitches }[];
  /** IANA time zone (`Europe/Paris`), required with `quietHours` */
  timeZone?: string;
  /** non-critical email and SMS due inside it wait for its end */
  quietHours?: QuietHours;
}

/**
 * Who changed preferences: the recipient itself (`user`, `subscriber`), an
 * admin user (`admin`), an application's key (`apikey`), the one-click link
 * of an email (`unsubscribe`), or a provider's unsubscribe report (`provider`).
 */
export type ChangedByKind = 'user' | 'admin' | 'apikey' | 'subscriber' | 'unsubscribe' | 'provider';

/** One change: who made it, when, what the settings were before and what they became. */
export interface PreferenceChange {
  at: Date;
  /** the principal's id (a user, an API key, `sub:<externalId>`), `link:<category>`, `mailgun` */
  by: string;
  byKind: ChangedByKind | string;
  from: PreferenceSettings;
  /** absent on changes recorded before it was kept */
  to?: PreferenceSettings;
}

export interface PreferenceRecord extends PreferenceSettings {
  /** the recipient: a user id or `sub:<externalId>` (the inbox owner of its notifications) */
  _id: string;
  /** the last `MAX_AUDIT` changes, oldest first */
  audit: PreferenceChange[];
  revision: number;
  updatedAt: Date;
}

const preferenceSchema = new Schema<PreferenceRecord>(
  {
    _id: { type: String, required: true },
    channels: { type: Schema.Types.Mixed, default: {} },
    categories: { type: Schema.Types.Mixed, default: [] },
    timeZone: String,
    quietHours: Schema.Types.Mixed,
    audit: { type: Schema.Types.Mixed, default: [] },
    revision: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'preferences', versionKey: false, minimize: false },
);

export type PreferenceModel = Model<PreferenceRecord>;

export function preferenceModel(connection: Connection): PreferenceModel {
  return (
    (connection.models.Preference as PreferenceModel | undefined) ??
    connection.model<PreferenceRecord>('Preference', preferenceSchema)
  );
}
