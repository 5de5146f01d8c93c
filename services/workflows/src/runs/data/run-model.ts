import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { type Channel, type WorkflowRecipient, type WorkflowSender } from '@herald/contracts';

export const RunStatuses = ['active', 'completed', 'cancelled', 'throttled', 'digested', 'failed'] as const;
export type RunStatus = (typeof RunStatuses)[number];

/** What one step did, appended as the run goes. */
export interface StepOutcome {
  stepId: string;
  type: string;
  /** sent, waited, resumed, then, else, allowed, throttled, opened, joined, closed, armed, … */
  outcome: string;
  at: Date;
  notificationId?: string;
  detail?: string;
}

/** A channel step's notification: its id is chosen and stored before the message is published. */
export interface RunSend {
  stepId: string;
  channel: Channel;
  notificationId: string;
  publishedAt?: Date;
}

/** A channel step's send the notification service refused for good (`workflow.step.refused`). */
export interface RunRefusal {
  notificationId: string;
  stepId: string;
  code: string;
  reason: string;
  at: Date;
}

/** Something that happened to one of the run's notifications (notification.created / .updated). */
export interface RunEngagement {
  notificationId: string;
  kind: 'read' | 'seen' | 'delivered';
  at: Date;
}

/**
 * A status change not yet announced (`workflow.run.changed`): pushed in the
 * same write as the change, removed once the relay's publish is confirmed.
 * A run changes to each status at most once, so the status names it.
 */
export interface RunAnnouncement {
  status: RunStatus;
  at: Date;
}

/** The pending announcement of a change to `status` at `at`, for the write that makes the change. */
export function announce(status: RunStatus, at: Date): { announcements: RunAnnouncement } {
  return { announcements: { status, at } };
}

/** One event gathered by a digest: a run's data, at its trigger time. */
export interface DigestEvent {
  runId: string;
  at: Date;
  data: Record<string, unknown>;
}

/**
 * One run of a workflow for one recipient. Its timer is `wakeAt`: the
 * poller claims runs whose `wakeAt` has come (a lease, `leaseUntil`, so one
 * instance advances a run at a time, and another takes over once a claim
 * lapses with its process), and nothing waits in a process.
 */
export interface RunRecord {
  _id: Types.ObjectId;
  workflowKey: string;
  workflowVersion: number;
  /** the definition's steps as they were when the run started */
  steps: Record<string, unknown>[];
  category?: string;
  sender: WorkflowSender;
  recipient: WorkflowRecipient;
  /** `userId`, `sub:<externalId>`, `email:<address>` or `phone:<number>`: lists and digests key on it */
  recipientKey: string;
  /** the trigger's data, as JSON text (keys with dots or `$` kept as given) */
  dataJson: string;
  transactionId?: string;
  /** `<sender>|<transactionId>|<recipientKey>`: one run per transaction and recipient */
  dedupeKey?: string;
  status: RunStatus;
  /** the index of the step to run next */
  position: number;
  /** when the poller should advance it; null once it has ended */
  wakeAt: Date | null;
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
  /** the step waiting for `wakeAt` (a delay or a digest window) */
  waiting?: { stepId: string; until: Date; bucketId?: string } | null;
  history: StepOutcome[];
  sends: RunSend[];
  engagement: RunEngagement[];
  /** sends the notification service refused (the run ended `failed`); absent on runs never refused */
  refusals?: RunRefusal[];
  /**
   * `cancel-on` steps passed: the run is cancelled when one of these happens.
   * An engagement event names the channel step it watches (`stepId`); an
   * application event key (`custom`) names the cancel-on step itself.
   */
  cancelOn: { event: string; stepId: string; custom?: boolean }[];
  /** the application event that cancelled the run (`POST /workflows/events`) */
  cancelledBy?: { event: string; data?: Record<string, unknown>; at: Date; by: string };
  /** a digest's output: the events gathered, in order */
  digest?: { events: DigestEvent[] } | null;
  /** for a run gathered into another's digest: that run */
  digestedInto?: string;
  /** status changes still to publish as `workflow.run.changed`, oldest first */
  announcements?: RunAnnouncement[];
  /** the relay's claim on announcing this run's changes (one instance publishes a run's changes, in order) */
  announceLeaseUntil?: Date | null;
  createdAt: Date;
  updatedAt: Date;
  endedAt?: Date;
}

const runSchema = new Schema<RunRecord>(
  {
    workflowKey: { type: String, required: true },
    workflowVersion: { type: Number, required: true },
    steps: { type: Schema.Types.Mixed, required: true },
    category: String,
    sender: { type: Schema.Types.Mixed, required: true },
    recipient: { type: Schema.Types.Mixed, required: true },
    recipientKey: { type: String, required: true },
    dataJson: { type: String, required: true },
    transactionId: String,
    dedupeKey: String,
    status: { type: String, required: true },
    position: { type: Number, required: true },
    wakeAt: { type: Date, default: null },
    leaseOwner: String,
    leaseUntil: Date,
    waiting: Schema.Types.Mixed,
    history: { type: Schema.Types.Mixed, default: [] },
    sends: { type: Schema.Types.Mixed, default: [] },
    engagement: { type: Schema.Types.Mixed, default: [] },
    refusals: { type: Schema.Types.Mixed, default: undefined },
    cancelOn: { type: Schema.Types.Mixed, default: [] },
    cancelledBy: Schema.Types.Mixed,
    digest: Schema.Types.Mixed,
    digestedInto: String,
    announcements: { type: Schema.Types.Mixed, default: undefined },
    announceLeaseUntil: Date,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    endedAt: Date,
  },
  { collection: 'workflow_runs', versionKey: false, minimize: false },
);
// The poller: runs whose time has come, oldest first.
runSchema.index({ wakeAt: 1 });
runSchema.index({ dedupeKey: 1 }, { unique: true, sparse: true });
// Notification events find their run by the notification's id.
runSchema.index({ 'sends.notificationId': 1 });
// Lists per workflow and per recipient, newest first; cancel by transaction.
runSchema.index({ workflowKey: 1, createdAt: -1, _id: -1 });
runSchema.index({ recipientKey: 1, createdAt: -1, _id: -1 });
runSchema.index({ transactionId: 1 });
// The relay: runs with a change to announce (sparse: only those hold the field).
runSchema.index({ 'announcements.status': 1 }, { sparse: true });

export type RunModel = Model<RunRecord>;

export function runModel(connection: Connection): RunModel {
  return (
    (connection.models.WorkflowRun as RunModel | undefined) ??
    connection.model<RunRecord>('WorkflowRun', runSchema)
  );
}

/**
 * A digest window being filled: runs with the same `openKey` join it while
 * it is open; its owner (the first run) closes it when the window ends and
 * carries every event on. `openKey` is unset on close, so the unique index
 * holds at most one open bucket per key.
 */
export interface DigestBucketRecord {
  _id: Types.ObjectId;
  openKey?: string;
  owner: string;
  dueAt: Date;
  events: DigestEvent[];
  closedAt?: Date;
}

const bucketSchema = new Schema<DigestBucketRecord>(
  {
    openKey: String,
    owner: { type: String, required: true },
    dueAt: { type: Date, required: true },
    events: { type: Schema.Types.Mixed, default: [] },
    closedAt: Date,
  },
  { collection: 'workflow_digests', versionKey: false },
);
bucketSchema.index({ openKey: 1 }, { unique: true, sparse: true });
bucketSchema.index({ 'events.runId': 1 });

export type DigestBucketModel = Model<DigestBucketRecord>;

export function digestBucketModel(connection: Connection): DigestBucketModel {
  return (
    (connection.models.WorkflowDigest as DigestBucketModel | undefined) ??
    connection.model<DigestBucketRecord>('WorkflowDigest', bucketSchema)
  );
}

/** A throttle's window for one key: how many runs went through, and which (a re-run counts once). */
export interface ThrottleWindowRecord {
  _id: string;
  windowEnd: Date;
  count: number;
  runs: string[];
}

const throttleSchema = new Schema<ThrottleWindowRecord>(
  {
    _id: { type: String, required: true },
    windowEnd: { type: Date, required: true },
    count: { type: Number, required: true },
    runs: { type: [String], default: [] },
  },
  { collection: 'workflow_throttles', versionKey: false },
);

export type ThrottleWindowModel = Model<ThrottleWindowRecord>;

export function throttleWindowModel(connection: Connection): ThrottleWindowModel {
  return (
    (connection.models.WorkflowThrottle as ThrottleWindowModel | undefined) ??
    connection.model<ThrottleWindowRecord>('WorkflowThrottle', throttleSchema)
  );
}
