import { Schema, type Connection, type Model } from 'mongoose';
import { type TemplateContent } from './content-types';

/**
 * The head of a template: its current version's content and bookkeeping.
 * The head carries the content (not only a version number) so that an edit
 * is one conditional write (`{ key, version: N }` → N+1) with no window in
 * which the head names a version that is not stored: no transactions needed.
 * `template_versions` is the immutable history, written right after; a
 * crash between the two is healed by `recordVersion` the next time the head
 * is edited or its history read.
 */
export interface TemplateRecord extends TemplateContent {
  key: string;
  version: number;
  /** sha256 of the canonical content: an edit that changes nothing makes no version */
  contentHash: string;
  /** shipped with Herald (verify-email, …): edits allowed, deletion refused */
  system: boolean;
  /** for a system template: the hash of the shipped content the seeder last applied */
  seedHash?: string;
  /** `system` (the seeder) or the admin's user id */
  updatedBy: string;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TemplateVersionRecord extends TemplateContent {
  key: string;
  version: number;
  contentHash: string;
  createdBy: string;
  createdAt: Date;
}

const contentFields = {
  description: String,
  channels: { type: [String], required: true },
  defaultLocale: { type: String, required: true },
  locales: { type: Schema.Types.Mixed, required: true },
  variables: { type: Schema.Types.Mixed, required: true },
};

const templateSchema = new Schema<TemplateRecord>(
  {
    key: { type: String, required: true },
    ...contentFields,
    version: { type: Number, required: true },
    contentHash: { type: String, required: true },
    system: { type: Boolean, default: false },
    seedHash: String,
    updatedBy: { type: String, required: true },
    deletedAt: { type: Date, default: null },
  },
  { collection: 'templates', timestamps: true, minimize: false, versionKey: false },
);
// Every lookup (send, edit, delete, seed) is by key; the edit's compare-and-set adds the version.
templateSchema.index({ key: 1 }, { unique: true });
// The admin list: live templates in key order, from the cursor's key.
templateSchema.index({ deletedAt: 1, key: 1 });

const versionSchema = new Schema<TemplateVersionRecord>(
  {
    key: { type: String, required: true },
    version: { type: Number, required: true },
    ...contentFields,
    contentHash: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'template_versions', minimize: false, versionKey: false },
);
// One document per (key, version), newest first for the history list; two writers of a version collide here.
versionSchema.index({ key: 1, version: -1 }, { unique: true });

export type TemplateModel = Model<TemplateRecord>;
export type TemplateVersionModel = Model<TemplateVersionRecord>;

export interface TemplateModels {
  templates: TemplateModel;
  versions: TemplateVersionModel;
}

export function templateModels(connection: Connection): TemplateModels {
  return {
    templates:
      (connection.models.Template as TemplateModel | undefined) ??
      connection.model<TemplateRecord>('Template', templateSchema),
    versions:
      (connection.models.TemplateVersion as TemplateVersionModel | undefined) ??
      connection.model<TemplateVersionRecord>('TemplateVersion', versionSchema),
  };
}
