import { Schema, type Connection, type Model } from 'mongoose';

/**
 * What the workflows service has been told of each template: the version
 * (and deletion) last published as `template.changed`. The relay's pass
 * compares the templates with it and publishes only what differs.
 */
export interface TemplateAnnouncementRecord {
  /** the template's key */
  _id: string;
  version: number;
  deleted: boolean;
  at: Date;
}

const announcementSchema = new Schema<TemplateAnnouncementRecord>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    deleted: { type: Boolean, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'template_announcements', versionKey: false },
);

export type TemplateAnnouncementModel = Model<TemplateAnnouncementRecord>;

export function templateAnnouncementModel(connection: Connection): TemplateAnnouncementModel {
  return (
    (connection.models.TemplateAnnouncement as TemplateAnnouncementModel | undefined) ??
    connection.model<TemplateAnnouncementRecord>('TemplateAnnouncement', announcementSchema)
  );
}
