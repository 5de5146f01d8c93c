import { Schema, type Connection, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { OutboxEntrySchema, type OutboxEntry } from '../../outbox/data/outbox-entry';

/** The current email-verification token; a resend replaces it, which invalidates the old one. */
const EmailVerificationSchema = new Schema(
  {
    tokenHash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    sentAt: { type: Date, required: true },
    usedAt: { type: Date },
  },
  { _id: false },
);

/** A password-reset link sent by email: single use, replaced by the next request. */
const PasswordResetSchema = new Schema(
  {
    tokenHash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    requestedAt: { type: Date, required: true },
    usedAt: { type: Date },
  },
  { _id: false },
);

/**
 * A number the user asked to verify, with the one-time code sent to it by
 * SMS (hashed). It becomes `phone` only once the code is entered.
 */
const PhoneVerificationSchema = new Schema(
  {
    phone: { type: String, required: true },
    codeHash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    sentAt: { type: Date, required: true },
    /** wrong codes entered for this code; at the limit a new code is needed */
    attempts: { type: Number, required: true, default: 0 },
  },
  { _id: false },
);

const UserSchema = new Schema(
  {
    email: { type: String, required: true },
    passwordHash: { type: String, required: true },
    name: { type: String, required: true },
    locale: { type: String },
    /** only ever a number the user proved with a code (see phoneVerified; older accounts may hold an unproven one) */
    phone: { type: String },
    phoneVerified: { type: Boolean, default: false },
    phoneVerification: { type: PhoneVerificationSchema },
    passwordReset: { type: PasswordResetSchema },
    role: { type: String, enum: ['user', 'admin'], required: true, default: 'user' },
    emailVerified: { type: Boolean, required: true, default: false },
    disabled: { type: Boolean, required: true, default: false },
    emailVerification: { type: EmailVerificationSchema },
    outbox: { type: [OutboxEntrySchema], default: [] },
    /**
     * Bumped by every change: writes are conditional on it (optimistic
     * concurrency, so an event's snapshot is exactly the state it saved), and
     * events carry it so a read model can ignore an older snapshot.
     */
    revision: { type: Number, required: true, default: 0 },
  },
  { collection: 'users', timestamps: true, minimize: true },
);

// Login and register look up by email; the unique index is what makes a duplicate a 409.
UserSchema.index({ email: 1 }, { unique: true });
// verify-email looks the token up by its hash
UserSchema.index({ 'emailVerification.tokenHash': 1 }, { sparse: true });
// password-reset confirm looks the token up by its hash
UserSchema.index({ 'passwordReset.tokenHash': 1 }, { sparse: true });
// a number verified by one user is taken from any other who had verified it (numbers are recycled)
UserSchema.index({ phone: 1 }, { sparse: true });
// the admin list: optional role filter, then _id order for the cursor
UserSchema.index({ role: 1, _id: 1 });
// the outbox relay looks for users holding events older than a grace period
UserSchema.index({ 'outbox.createdAt': 1 }, { sparse: true });

export type User = InferSchemaType<typeof UserSchema>;
export type UserDocument = HydratedDocument<User>;
export type { OutboxEntry };

export function userModel(connection: Connection) {
  return connection.model('User', UserSchema);
}
export type UserModel = ReturnType<typeof userModel>;
