import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { topicReadModels } from '@herald/read-models';
import { type Channel, type Priority } from '@herald/contracts';
import { fanOutContentFields, type FanOutContent } from '../../notifications/data/fan-out-content';

/**
 * `scheduled`: waiting for its `sendAt` (the relay starts it then, on any
 * instance); `running`: fanning out; `completed`; `cancelled` before it started.
 */
export type TopicSendState = 'scheduled' | 'running' | 'completed' | 'cancelled';

/** A send to a topic: what to send, and the fan-out's checkpoint under a lease (as a broadcast). */
export interface TopicSendRecord extends FanOutContent {
  _id: Types.ObjectId;
  topic: string;
  senderId: string;
  channels: Channel[];
  category?: string;
  priority: Priority;
  metadata: Record<string, string>;
  actor?: string;
  tenant?: string;
  dataJson?: string;
  correlationId: string;
  state: TopicSendState;
  /** a scheduled send: when its fan-out starts */
  sendAt?: Date;
  cancelledAt?: Date;
  /** members when it was accepted, then when its fan-out started */
  recipientCount: number;
  processedCount: number;
  /** notifications stored (members with no reachable channel get none) */
  notifiedCount: number;
  lastExternalId: string | null;
  leaseUntil: Date | null;
  leaseOwner?: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt?: Date;
}

const topicSendSchema = new Schema<TopicSendRecord>(
  {
    topic: { type: String, required: true },
    senderId: { type: String, required: true },
    channels: { type: [String], required: true },
    ...fanOutContentFields,
    category: String,
    priority: { type: String, required: true },
    metadata: { type: Schema.Types.Mixed, default: {} },
    actor: String,
    tenant: String,
    dataJson: String,
    correlationId: { type: String, required: true },
    state: { type: String, required: true },
    recipientCount: { type: Number, required: true },
    processedCount: { type: Number, default: 0 },
    notifiedCount: { type: Number, default: 0 },
    lastExternalId: { type: String, default: null },
    leaseUntil: { type: Date, default: null },
    leaseOwner: String,
    sendAt: Date,
    cancelledAt: Date,
    completedAt: Date,
  },
  { collection: 'topic_sends', timestamps: true, minimize: false, versionKey: false },
);
// the relay's scan for sends whose instance stopped, and for scheduled sends now due (leaseUntil = sendAt)
topicSendSchema.index({ state: 1, leaseUntil: 1 });
// the list (GET /topic-sends), newest first: a topic's sends, and a key's own
topicSendSchema.index({ topic: 1, _id: -1 });
topicSendSchema.index({ senderId: 1, _id: -1 });

export type { TopicMemberModel, TopicModel } from '@herald/read-models';
export type TopicSendModel = Model<TopicSendRecord>;

export function topicModels(connection: Connection) {
  return {
    // auth's topics and their members, as every service sending to a topic keeps them
    ...topicReadModels(connection),
    topicSends:
      (connection.models.TopicSend as TopicSendModel | undefined) ??
      connection.model<TopicSendRecord>('TopicSend', topicSendSchema),
  };
}
