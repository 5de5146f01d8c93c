import { Schema, type Types, type Connection, type Model } from 'mongoose';
import { type Channel, type Priority, type UserRole } from '@herald/contracts';
import { fanOutContentFields, type FanOutContent } from '../../notifications/data/fan-out-content';

export type BroadcastState = 'running' | 'completed';

/** A fan-out in progress: a checkpoint (`lastUserId`) so any instance can resume it after a crash. */
export interface BroadcastRecord extends FanOutContent {
  _id: Types.ObjectId;
  senderId: string;
  role?: UserRole;
  channels: Channel[];
  category?: string;
  priority: Priority;
  metadata: Record<string, string>;
  correlationId: string;
  state: BroadcastState;
  recipientCount: number;
  processedCount: number;
  lastUserId: string | null;
  leaseUntil: Date | null;
  leaseOwner?: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt?: Date;
}

const broadcastSchema = new Schema<BroadcastRecord>(
  {
    senderId: { type: String, required: true },
    role: String,
    channels: { type: [String], required: true },
    ...fanOutContentFields,
    category: String,
    priority: { type: String, required: true },
    metadata: { type: Schema.Types.Mixed, default: {} },
    correlationId: { type: String, required: true },
    state: { type: String, required: true },
    recipientCount: { type: Number, required: true },
    processedCount: { type: Number, default: 0 },
    lastUserId: { type: String, default: null },
    leaseUntil: { type: Date, default: null },
    leaseOwner: String,
    completedAt: Date,
  },
  { collection: 'broadcasts', timestamps: true, minimize: false, versionKey: false },
);

// The relay's scan for broadcasts whose worker stopped.
broadcastSchema.index({ state: 1, leaseUntil: 1 });

export type BroadcastModel = Model<BroadcastRecord>;

export function broadcastModel(connection: Connection): BroadcastModel {
  return (
    (connection.models.Broadcast as BroadcastModel | undefined) ??
    connection.model<BroadcastRecord>('Broadcast', broadcastSchema)
  );
}
