import { Schema, type Connection, type Model } from 'mongoose';
import { type Channel } from '@herald/contracts';

/** A kind of notification recipients can mute, keyed by its `key`. */
export interface CategoryRecord {
  /** the category's key, as notifications name it */
  _id: string;
  name: string;
  description?: string;
  /** the channels a sender is advised to use; informative, a send still names its own */
  defaultChannels: Channel[];
  /** security, billing: delivered whatever the recipient's preferences say */
  critical: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const categorySchema = new Schema<CategoryRecord>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    description: String,
    defaultChannels: { type: [String], default: [] },
    critical: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'categories', versionKey: false },
);

export type CategoryModel = Model<CategoryRecord>;

export function categoryModel(connection: Connection): CategoryModel {
  return (
    (connection.models.Category as CategoryModel | undefined) ??
    connection.model<CategoryRecord>('Category', categorySchema)
  );
}
