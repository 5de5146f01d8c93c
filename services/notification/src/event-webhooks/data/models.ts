import { Schema, type Connection, type Model } from 'mongoose';

/** A secret that still signs after a rotation, until `expiresAt`. */
export interface PreviousSecret {
  secret: string;
  expiresAt: Date;
}

/** An application's (or the platform's) endpoint for outgoing webhooks. */
export interface EndpointRecord {
  /** `ep_<24 hex>` */
  _id: string;
  /** `platform` (registered by an admin user: every notification) or `apikey:<keyId>` (that key's sends) */
  owner: string;
  url: string;
  description?: string;
  eventTypes: string[];
  /** only notifications of these categories; absent: all */
  categories?: string[];
  /** only notifications of these tenants; absent: all */
  tenants?: string[];
  /** `whsec_<base64>`: signs every delivery; never shown again after create/rotate */
  secret: string;
  previousSecrets: PreviousSecret[];
  disabled: boolean;
  disabledAt?: Date | null;
  disabledReason?: string | null;
  /** the first failure since the last success; null while it succeeds */
  failingSince?: Date | null;
  consecutiveFailures: number;
  createdAt: Date;
  updatedAt: Date;
}

/** One attempt at a delivery, as the attempts log shows it. */
export interface AttemptEntry {
  at: Date;
  /** the receiver's HTTP status; absent when no answer came (refused target, timeout, connection error) */
  statusCode?: number;
  latencyMs: number;
  /** the first bytes of the answer, for the log */
  responseExcerpt?: string;
  error?: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint: what the dispatcher sends until the receiver takes it. */
export interface DeliveryRecord {
  /** the stable `webhook-id` (`msg_…`): the same on every attempt and replay */
  _id: string;
  endpointId: string;
  notificationId: string;
  eventType: string;
  /** the exact body signed and sent, fixed when recorded */
  body: string;
  /** when Herald learned of the event: orders a notification's events for one endpoint */
  order: number;
  status: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  /** the first attempt of the current round (a replay starts a new one): the retry window counts from it */
  firstAttemptAt?: Date | null;
  leaseUntil?: Date | null;
  leaseOwner?: string | null;
  deliveredAt?: Date | null;
  log: AttemptEntry[];
  createdAt: Date;
}

const endpointSchema = new Schema<EndpointRecord>(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    url: { type: String, required: true },
    description: String,
    eventTypes: { type: [String], required: true },
    categories: { type: [String], default: undefined },
    tenants: { type: [String], default: undefined },
    secret: { type: String, required: true },
    previousSecrets: {
      type: [new Schema<PreviousSecret>({ secret: String, expiresAt: Date }, { _id: false })],
      default: [],
    },
    disabled: { type: Boolean, default: false },
    disabledAt: Date,
    disabledReason: String,
    failingSince: Date,
    consecutiveFailures: { type: Number, default: 0 },
  },
  { collection: 'event_webhook_endpoints', timestamps: true, versionKey: false },
);
endpointSchema.index({ owner: 1, _id: 1 });

const attemptSchema = new Schema<AttemptEntry>(
  {
    at: { type: Date, required: true },
    statusCode: Number,
    latencyMs: { type: Number, required: true },
    responseExcerpt: String,
    error: String,
  },
  { _id: false },
);

const deliverySchema = new Schema<DeliveryRecord>(
  {
    _id: { type: String, required: true },
    endpointId: { type: String, required: true },
    notificationId: { type: String, required: true },
    eventType: { type: String, required: true },
    body: { type: String, required: true },
    order: { type: Number, required: true },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: Date,
    firstAttemptAt: Date,
    leaseUntil: Date,
    leaseOwner: String,
    deliveredAt: Date,
    log: { type: [attemptSchema], default: [] },
    createdAt: { type: Date, required: true },
  },
  { collection: 'event_webhook_deliveries', versionKey: false },
);
// The dispatcher's scan: due pending deliveries.
deliverySchema.index({ status: 1, nextAttemptAt: 1 });
// A notification's chain for one endpoint, in order: only its head is sent.
deliverySchema.index({ endpointId: 1, notificationId: 1, status: 1, order: 1 });
// The API's list of an endpoint's deliveries, newest first.
deliverySchema.index({ endpointId: 1, order: -1 });

export type EndpointModel = Model<EndpointRecord>;
export type DeliveryModel = Model<DeliveryRecord>;

export function endpointModel(connection: Connection): EndpointModel {
  return (
    (connection.models.EventWebhookEndpoint as EndpointModel | undefined) ??
    connection.model<EndpointRecord>('EventWebhookEndpoint', endpointSchema)
  );
}

export function deliveryModel(connection: Connection): DeliveryModel {
  return (
    (connection.models.EventWebhookDelivery as DeliveryModel | undefined) ??
    connection.model<DeliveryRecord>('EventWebhookDelivery', deliverySchema)
  );
}
