import { Schema, type Connection, type Model } from 'mongoose';

/** A Mailgun signature token seen once; a second webhook with it is a replay. */
export interface WebhookTokenRecord {
  _id: string;
  /** checked explicitly: the TTL index only cleans up, and not promptly */
  expiresAt: Date;
}

const webhookTokenSchema = new Schema<WebhookTokenRecord>(
  { _id: { type: String, required: true }, expiresAt: { type: Date, required: true } },
  { collection: 'webhook_tokens', versionKey: false },
);
webhookTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

/** An address or number that must not be sent to again: a hard bounce, a complaint, an unsubscribe. */
export interface SuppressionRecord {
  /** lower-cased email address or E.164 number */
  _id: string;
  channel: 'email' | 'sms';
  reason: 'bounced' | 'complained' | 'unsubscribed';
  provider: string;
  notificationId?: string;
  createdAt: Date;
}

const suppressionSchema = new Schema<SuppressionRecord>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    reason: { type: String, required: true },
    provider: { type: String, required: true },
    notificationId: String,
    createdAt: { type: Date, required: true },
  },
  { collection: 'suppressions', versionKey: false },
);

export type WebhookTokenModel = Model<WebhookTokenRecord>;
export type SuppressionModel = Model<SuppressionRecord>;

export function webhookTokenModel(connection: Connection): WebhookTokenModel {
  return (
    (connection.models.WebhookToken as WebhookTokenModel | undefined) ??
    connection.model<WebhookTokenRecord>('WebhookToken', webhookTokenSchema)
  );
}

export function suppressionModel(connection: Connection): SuppressionModel {
  return (
    (connection.models.Suppression as SuppressionModel | undefined) ??
    connection.model<SuppressionRecord>('Suppression', suppressionSchema)
  );
}

/** The address a suppression is keyed by, so `Ada@Example.com` and `ada@example.com` are one. */
export function suppressionKey(address: string): string {
  return address.trim().toLowerCase();
}

/** A verified provider event about a send we have not heard of yet; applied when its `sent` arrives. */
export interface PendingEventRecord {
  /** `provider:eventId`: a redelivered webhook is stored once */
  _id: string;
  providerMessageId: string;
  event: Record<string, unknown>;
  at: Date;
  expiresAt: Date;
}

const pendingEventSchema = new Schema<PendingEventRecord>(
  {
    _id: { type: String, required: true },
    providerMessageId: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'pending_provider_events', versionKey: false },
);
pendingEventSchema.index({ providerMessageId: 1, at: 1 });
pendingEventSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type PendingEventModel = Model<PendingEventRecord>;

export function pendingEventModel(connection: Connection): PendingEventModel {
  return (
    (connection.models.PendingProviderEvent as PendingEventModel | undefined) ??
    connection.model<PendingEventRecord>('PendingProviderEvent', pendingEventSchema)
  );
}
