import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { type Channel, type Priority, type TemplateRef } from '@herald/contracts';
import { type RenderedChannels } from '../../templates/data/content-types';

/** This service's copy of auth's topics (`topic.upserted` / `topic.deleted`), by key. */
export interface TopicRecord {
  _id: string;
  name?: string;
  revision: number;
  /** a tombstone: membership changes up to `revision` are void */
  deletedAt?: Date;
}

const topicSchema = new Schema<TopicRecord>(
  {
    _id: { type: String, required: true },
    name: String,
    revision: { type: Number, required: true },
    deletedAt: Date,
  },
  { collection: 'topics', versionKey: false },
);

/** One member of one topic, as the newest `topic.members_changed` naming it says. */
export interface TopicMemberRecord {
  topic: string;
  externalId: string;
  /** false: a member; true: removed at `revision` (kept, so an older "added" cannot bring it back) */
  removed: boolean;
  revision: number;
}

const topicMemberSchema = new Schema<TopicMemberRecord>(
  {
    topic: { type: String, required: true },
    externalId: { type: String, required: true },
    removed: { type: Boolean, required: true },
    revision: { type: Number, required: true },
  },
  { collection: 'topic_members', versionKey: false },
);
// one row per (topic, member): the unique key the revision guard relies on
topicMemberSchema.index({ topic: 1, externalId: 1 }, { unique: true });
// the fan-out: a topic's live members in externalId order, from a checkpoint
topicMemberSchema.index({ topic: 1, removed: 1, externalId: 1 });

/**
 * `scheduled`: waiting for its `sendAt` (the relay starts it then, on any
 * instance); `running`: fanning out; `completed`; `cancelled` before it started.
 */
export type TopicSendState = 'scheduled' | 'running' | 'completed' | 'cancelled';

/** A send to a topic: what to send, and the fan-out's checkpoint under a lease (as a broadcast). */
export interface TopicSendRecord {
  _id: Types.ObjectId;
  topic: string;
  senderId: string;
  channels: Channel[];
  title: string;
  body: string;
  html?: string;
  template?: TemplateRef;
  locale?: string;
  renderedByLocale?: Record<string, RenderedChannels>;
  defaultLocale?: string;
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
    title: { type: String, required: true },
    body: { type: String, required: true },
    html: String,
    template: Schema.Types.Mixed,
    locale: String,
    renderedByLocale: Schema.Types.Mixed,
    defaultLocale: String,
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
// a topic's sends, newest first
topicSendSchema.index({ topic: 1, createdAt: -1 });

export type TopicModel = Model<TopicRecord>;
export type TopicMemberModel = Model<TopicMemberRecord>;
export type TopicSendModel = Model<TopicSendRecord>;

export function topicModels(connection: Connection) {
  return {
    topics:
      (connection.models.Topic as TopicModel | undefined) ??
      connection.model<TopicRecord>('Topic', topicSchema),
    topicMembers:
      (connection.models.TopicMember as TopicMemberModel | undefined) ??
      connection.model<TopicMemberRecord>('TopicMember', topicMemberSchema),
    topicSends:
      (connection.models.TopicSend as TopicSendModel | undefined) ??
      connection.model<TopicSendRecord>('TopicSend', topicSendSchema),
  };
}
