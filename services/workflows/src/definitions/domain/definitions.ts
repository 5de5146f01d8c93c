import { ConflictError, NotFoundError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type ServiceContext } from '../../kernel/context';
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
  const { _id, updatedAt, createdAt, ...fields } = head;
  void _id;
  void createdAt;
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
    if (isDuplicateKeyError(error)) throw new ConflictError('workflow_exists', `A workflow "${key}" exists`);
    throw error;
  }
  await recordVersion(ctx, head);
  return view(head, now);
}

/** Replaces a workflow's definition: version N+1, in one conditional write on the head. */
export async function replaceWorkflow(
  ctx: ServiceContext,
  key: string,
  input: DefinitionInput,
  actor: string,
): Promise<WorkflowView> {
  const steps = await checkedSteps(ctx, input);
  const current = await ctx.models.workflows.findById(key).lean<WorkflowRecord>();
  if (!current) throw workflowNotFound(key);
  const now = ctx.now();
  const next = await ctx.models.workflows
    .findOneAndUpdate(
      { _id: key, version: current.version },
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
  const head = await ctx.models.workflows.findById(key).lean<WorkflowRecord>();
  if (!head) throw workflowNotFound(key);
  return view(head, head.updatedAt);
}

export async function getWorkflowVersion(
  ctx: ServiceContext,
  key: string,
  version: number,
): Promise<WorkflowView> {
  const stored = await ctx.models.versions.findById(`${key}@${version}`).lean<WorkflowVersionRecord>();
  if (!stored)
    throw new NotFoundError('workflow_version_not_found', `No version ${version} of workflow "${key}"`);
  return view(stored);
}

/** Every workflow, in key order (an admin's list: not paginated beyond `limit`). */
export async function listWorkflows(ctx: ServiceContext, limit: number): Promise<WorkflowView[]> {
  const heads = await ctx.models.workflows.find().sort({ _id: 1 }).limit(limit).lean<WorkflowRecord[]>();
  return heads.map((head) => view(head, head.updatedAt));
}

/** The head, for a trigger: 404 when there is no such workflow. */
export async function workflowForTrigger(ctx: ServiceContext, key: string): Promise<WorkflowRecord> {
  const head = await ctx.models.workflows.findById(key).lean<WorkflowRecord>();
  if (!head) throw workflowNotFound(key);
  return head;
}
