import { Schema, type Connection, type Model } from 'mongoose';

/** What this service knows of a notification template (`template.changed`): enough to check a definition. */
export interface KnownTemplateRecord {
  /** the template's key */
  _id: string;
  version: number;
  channels: string[];
  deleted: boolean;
  at: Date;
}

const knownTemplateSchema = new Schema<KnownTemplateRecord>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    channels: { type: [String], required: true },
    deleted: { type: Boolean, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'known_templates', versionKey: false },
);

export type KnownTemplateModel = Model<KnownTemplateRecord>;

export function knownTemplateModel(connection: Connection): KnownTemplateModel {
  return (
    (connection.models.KnownTemplate as KnownTemplateModel | undefined) ??
    connection.model<KnownTemplateRecord>('KnownTemplate', knownTemplateSchema)
  );
}
