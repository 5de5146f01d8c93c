import { ConflictError, NotFoundError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type ServiceContext } from '../../kernel/context';
import { cancelActive } from '../../runs/domain/cancel';
import { liveTemplates } from '../../templates/domain/known-templates';
import { type WorkflowRecord, type WorkflowVersionRecord } from '../data/definition-model';
import { type DefinitionInput, type StepDefinition, type WorkflowView } from './types';
import { templateKeys, validateSteps } from './validate';

/*
 * Templates belong to the notification service. They are checked when a
 * definition is saved, against this service's read model of them (fed by
 * `template.changed`, which the notification service publishes for every
 * template version and deletion): a definition naming a template that does
 * not exist is refused with 400 naming the step. A template deleted later
 * fails at send (the notification service refuses the step's message; it
 * goes to its dead letters), and the next save of the definition says so.
 */

export function workflowNotFound(key: string): NotFoundError {
  return new NotFoundError('workflow_not_found', `No workflow "${key}"`);
}

/** Checks the steps against the templates the notification service has. */
export async function checkedSteps(ctx: ServiceContext, input: DefinitionInput): Promise<StepDefinition[]> {
  const known = await liveTemplates(ctx.models.templates, templateKeys(input.steps));
  const channels = new Map([...known].map(([key, record]) => [key, record.channels]));
  return validateSteps(input.steps, channels);
}

function view(record: WorkflowRecord | WorkflowVersionRecord, updatedAt?: Date): WorkflowView {
  return {
    key: record.key,
    version: record.version,
    ...(record.name ? { name: record.name } : {}),
    ...(record.description ? { description: record.description } : {}),
    ...(record.category ? { category: record.category } : {}),
    steps: record.steps,
    createdBy: record.createdBy,
    createdAt: record.createdAt.toISOString(),
    updatedAt: (updatedAt ?? record.createdAt).toISOString(),
  };
}

async function recordVersion(ctx: ServiceContext, head: WorkflowRecord): Promise<void> {
  const { _id, updatedAt, createdAt, deletedAt, deletedBy, ...fields } = head;
  void [_id, createdAt, deletedAt, deletedBy];
  try {
    await ctx.models.versions.create({ ...fields, _id: `${head.key}@${head.version}`, createdAt: updatedAt });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** Creates version 1 of a workflow; 409 when the key is taken. */
export async function createWorkflow(
  ctx: ServiceContext,
  key: string,
  input: DefinitionInput,
  actor: string,
): Promise<WorkflowView> {
  const steps = await checkedSteps(ctx, input);
  const now = ctx.now();
  const head: WorkflowRecord = {
    _id: key,
    key,
    version: 1,
    ...(input.name ? { name: input.name } : {}),
    ...(input.description ? { description: input.description } : {}),
    ...(input.category ? { category: input.category } : {}),
    steps: steps as unknown as Record<string, unknown>[],
    createdBy: actor,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ctx.models.workflows.create(head);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const revived = await recreateDeleted(ctx, head);
    if (!revived) throw new ConflictError('workflow_exists', `A workflow "${key}" exists`);
    await recordVersion(ctx, revived);
    return view(revived, now);
  }
  await recordVersion(ctx, head);
  return view(head, now);
}

/**
 * Creating a key that was deleted: a new definition, numbered after the
 * deleted one's last version (N+1), so runs of the old versions and of the
 * new one never share a (key, version). Null when the key is not deleted.
 */
async function recreateDeleted(ctx: ServiceContext, head: WorkflowRecord): Promise<WorkflowRecord | null> {
  const deleted = await ctx.models.workflows
    .findOne({ _id: head._id, deletedAt: { $ne: null } })
    .lean<WorkflowRecord>();
  if (!deleted) return null;
  const { _id, ...fields } = head;
  const unset = Object.fromEntries(
    (['name', 'description', 'category'] as const).filter((field) => !head[field]).map((field) => [field, 1]),
  );
  return ctx.models.workflows
    .findOneAndUpdate(
      { _id, deletedAt: { $ne: null }, version: deleted.version },
      {
        $set: { ...fields, version: deleted.version + 1, deletedAt: null, deletedBy: null },
        ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
      },
      { returnDocument: 'after' },
    )
    .lean<WorkflowRecord>();
}

/**
 * Deletes a workflow: from now on it is not found (GET, PUT, versions,
 * trigger: 404) and its key can be created again. Runs already started
 * finish on the version they are pinned to (a run carries its own copy of
 * the steps; a trigger answered 202 is a promise to its caller), unless
 * `cancelRuns` asks to end them `cancelled` too. Returns how many it cancelled.
 */
export async function deleteWorkflow(
  ctx: ServiceContext,
  key: string,
  actor: string,
  options: { cancelRuns?: boolean } = {},
): Promise<{ cancelledRuns: number }> {
  const now = ctx.now();
  const deleted = await ctx.models.workflows.updateOne(
    { _id: key, deletedAt: null },
    { $set: { deletedAt: now, deletedBy: actor, updatedAt: now } },
  );
  if (deleted.matchedCount === 0) throw workflowNotFound(key);
  if (!options.cancelRuns) return { cancelledRuns: 0 };
  const cancelled = await cancelActive(ctx, { workflowKey: key }, `workflow ${key} deleted by ${actor}`);
  return { cancelledRuns: cancelled.modifiedCount };
}

/** Replaces a workflow's definition: version N+1, in one conditional write on the head. */
export async function replaceWorkflow(
  ctx: ServiceContext,
  key: string,
  input: DefinitionInput,
  actor: string,
): Promise<WorkflowView> {
  const steps = await checkedSteps(ctx, input);
  const current = await ctx.models.workflows.findOne({ _id: key, deletedAt: null }).lean<WorkflowRecord>();
  if (!current) throw workflowNotFound(key);
  const now = ctx.now();
  const next = await ctx.models.workflows
    .findOneAndUpdate(
      { _id: key, version: current.version, deletedAt: null },
      {
        $set: {
          version: current.version + 1,
          steps,
          createdBy: actor,
          updatedAt: now,
          ...(input.name ? { name: input.name } : {}),
          ...(input.description ? { description: input.description } : {}),
          ...(input.category ? { category: input.category } : {}),
        },
      },
      { returnDocument: 'after' },
    )
    .lean<WorkflowRecord>();
  if (!next)
    throw new ConflictError('workflow_changed', 'The workflow changed meanwhile; read it and try again');
  await recordVersion(ctx, next);
  return view(next, now);
}

export async function getWorkflow(ctx: ServiceContext, key: string): Promise<WorkflowView> {
  const head = await ctx.models.workflows.findOne({ _id: key, deletedAt: null }).lean<WorkflowRecord>();
  if (!head) throw workflowNotFound(key);
  return view(head, head.updatedAt);
}

export async function getWorkflowVersion(
  ctx: ServiceContext,
  key: string,
  version: number,
): Promise<WorkflowView> {
  const live = await ctx.models.workflows.exists({ _id: key, deletedAt: null });
  const stored = live
    ? await ctx.models.versions.findById(`${key}@${version}`).lean<WorkflowVersionRecord>()
    : null;
  if (!stored)
    throw new NotFoundError('workflow_version_not_found', `No version ${version} of workflow "${key}"`);
  return view(stored);
}

export interface VersionSummaryView {
  key: string;
  version: number;
  name?: string;
  category?: string;
  stepCount: number;
  createdBy: string;
  createdAt: string;
}

/**
 * A live workflow's versions, newest first, a page at a time (the cursor is
 * the last version shown), each with who saved it and when; 404 for a
 * workflow that does not exist or was deleted. On the `{ key, version }`
 * index; the steps themselves are left out (GET …/versions/:version has them).
 */
export async function listWorkflowVersions(
  ctx: ServiceContext,
  key: string,
  page: { limit: number; cursor?: string },
): Promise<{ items: VersionSummaryView[]; nextCursor: string | null }> {
  if (!(await ctx.models.workflows.exists({ _id: key, deletedAt: null }))) throw workflowNotFound(key);
  const stored = await ctx.models.versions
    .find({ key, ...(page.cursor ? { version: { $lt: Number(page.cursor) } } : {}) })
    .sort({ version: -1 })
    .limit(page.limit + 1)
    .lean<WorkflowVersionRecord[]>();
  const items = stored.slice(0, page.limit);
  return {
    items: items.map((version) => ({
      key: version.key,
      version: version.version,
      ...(version.name ? { name: version.name } : {}),
      ...(version.category ? { category: version.category } : {}),
      stepCount: version.steps.length,
      createdBy: version.createdBy,
      createdAt: version.createdAt.toISOString(),
    })),
    nextCursor: stored.length > page.limit ? String(items[items.length - 1]!.version) : null,
  };
}

/** Every workflow, in key order (an admin's list: not paginated beyond `limit`). */
export async function listWorkflows(ctx: ServiceContext, limit: number): Promise<WorkflowView[]> {
  const heads = await ctx.models.workflows
    .find({ deletedAt: null })
    .sort({ _id: 1 })
    .limit(limit)
    .lean<WorkflowRecord[]>();
  return heads.map((head) => view(head, head.updatedAt));
}

/** The head, for a trigger: 404 when there is no such workflow. */
export async function workflowForTrigger(ctx: ServiceContext, key: string): Promise<WorkflowRecord> {
  const head = await ctx.models.workflows.findOne({ _id: key, deletedAt: null }).lean<WorkflowRecord>();
  if (!head) throw workflowNotFound(key);
  return head;
}
