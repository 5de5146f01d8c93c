import { Schema, type Connection, type Model } from 'mongoose';
import { type UserRole } from '@herald/contracts';

/** This service's copy of auth's users, replaced whole by each `user.registered` / `user.updated`. */
export interface UserRecord {
  _id: string;
  email: string;
  name: string;
  locale?: string;
  phone?: string;
  role: UserRole;
  emailVerified: boolean;
  /** the user proved `phone` with a one-time code; false (or absent, in older copies) otherwise */
  phoneVerified?: boolean;
  disabled: boolean;
  /** the `occurredAt` of the snapshot held: an older snapshot arriving late is ignored */
  snapshotAt: Date;
}

const userSchema = new Schema<UserRecord>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    name: { type: String, required: true },
    locale: String,
    phone: String,
    role: { type: String, required: true },
    emailVerified: { type: Boolean, required: true },
    phoneVerified: { type: Boolean, default: false },
    disabled: { type: Boolean, default: false },
    snapshotAt: { type: Date, required: true },
  },
  { collection: 'users', versionKey: false },
);

// Broadcast fan-out walks active users (of a role) in _id order.
userSchema.index({ disabled: 1, role: 1, _id: 1 });
// A recipient given by address: resolved to the user who verified it (see recipients.ts).
userSchema.index({ email: 1 });
userSchema.index({ phone: 1 });

export type UserModel = Model<UserRecord>;

export function userModel(connection: Connection): UserModel {
  return (
    (connection.models.User as UserModel | undefined) ?? connection.model<UserRecord>('User', userSchema)
  );
}
