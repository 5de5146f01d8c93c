import { Schema, type Connection, type Model } from 'mongoose';
import { type Channel } from '@herald/contracts';

/** Per channel: `false` mutes it, `true` or absent leaves it on. */
export type ChannelSwitches = Partial<Record<Channel, boolean>>;

/** What a recipient set: stored as given (category keys may hold dots, so not as field names). */
export interface PreferenceSettings {
  channels: ChannelSwitches;
  categories: { category: string; channels: ChannelSwitches }[];
}

/** One change: who made it, when, and what the settings were before. */
export interface PreferenceChange {
  at: Date;
  /** the principal's id (a user, an API key, `sub:<externalId>`) */
  by: string;
  byKind: string;
  from: PreferenceSettings;
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
