import { Schema, type Connection, type Model } from 'mongoose';

/** Fields every version of a definition has. */
export interface DefinitionFields {
  key: string;
  version: number;
  name?: string;
  description?: string;
  category?: string;
  /** the steps, as validated (see domain/types.ts) */
  steps: Record<string, unknown>[];
  /** who saved this version: a user id or an API key id */
  createdBy: string;
}

/**
 * The head of a workflow: its current version. An edit is one conditional
 * write (version N → N+1). A deleted workflow keeps its head, marked
 * `deletedAt` (gone for every read and trigger), so that creating the key
 * again goes on numbering versions (N+1): a run's (key, version) never
 * names two definitions.
 */
export interface WorkflowRecord extends DefinitionFields {
  _id: string;
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date | null;
  deletedBy?: string | null;
}

/** Every version ever saved, immutable: runs keep their own copy of the steps they started with. */
export interface WorkflowVersionRecord extends DefinitionFields {
  /** `<key>@<version>` */
  _id: string;
  createdAt: Date;
}

const fields = {
  key: { type: String, required: true },
  version: { type: Number, required: true },
  name: String,
  description: String,
  category: String,
  steps: { type: Schema.Types.Mixed, required: true },
  createdBy: { type: String, required: true },
};

const workflowSchema = new Schema<WorkflowRecord>(
  {
    _id: { type: String, required: true },
    ...fields,
    createdAt: Date,
    updatedAt: Date,
    deletedAt: { type: Date, default: null },
    deletedBy: { type: String, default: null },
  },
  { collection: 'workflows', versionKey: false, minimize: false },
);

const versionSchema = new Schema<WorkflowVersionRecord>(
  { _id: { type: String, required: true }, ...fields, createdAt: Date },
  { collection: 'workflow_versions', versionKey: false, minimize: false },
);
versionSchema.index({ key: 1, version: -1 });

export type WorkflowModel = Model<WorkflowRecord>;
export type WorkflowVersionModel = Model<WorkflowVersionRecord>;

export function workflowModel(connection: Connection): WorkflowModel {
  return (
    (connection.models.Workflow as WorkflowModel | undefined) ??
    connection.model<WorkflowRecord>('Workflow', workflowSchema)
  );
}

export function workflowVersionModel(connection: Connection): WorkflowVersionModel {
  return (
    (connection.models.WorkflowVersion as WorkflowVersionModel | undefined) ??
    connection.model<WorkflowVersionRecord>('WorkflowVersion', versionSchema)
  );
}
