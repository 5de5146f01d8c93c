import { ConflictError, NotFoundError, ValidationError, mapMongoError, type Logger } from '@herald/runtime';
import { PageLimits, type CursorPage } from '@herald/contracts';
import { requestHash } from '../domain/idempotency';
import { TemplateCache } from './cache';
import { checkTemplate } from './compile';
import { CompiledTemplate } from './compiled-template';
import { EMPTY_VARIABLES, type TemplateContent } from './content';
import { createTemplateEngine, type TemplateEngine } from './engine';
import { invalidTemplate } from './errors';
import { type TemplateModels, type TemplateRecord, type TemplateVersionRecord } from './models';
import {
  type CreateTemplateBody,
  type PatchTemplateBody,
  type ReplaceTemplateBody,
  type TemplateListQuery,
  type TemplateSummary,
  type TemplateVersionSummary,
  type TemplateVersionView,
  type TemplateView,
} from './schemas';
import { createVariablesCompiler, type VariablesCompiler } from './variables';

/** What the template functions need; built once by the app. */
export interface Templates {
  models: TemplateModels;
  engine: TemplateEngine;
  variables: VariablesCompiler;
  cache: TemplateCache;
  /** system templates as shipped, compiled on first need: the fallback of `renderSystemTemplate` */
  shipped: Map<string, CompiledTemplate>;
  log: Logger;
}

export function createTemplates(
  models: TemplateModels,
  log: Logger,
  options: { cacheTtlMs: number; maxCachedVersions?: number },
): Templates {
  const engine = createTemplateEngine();
  const variables = createVariablesCompiler();
  const cache = new TemplateCache({
    ttlMs: options.cacheTtlMs,
    maxVersions: options.maxCachedVersions ?? 500,
    build: (key, version, content) => new CompiledTemplate(engine, variables, key, version, content),
    loader: {
      head: async (key) => {
        const head = await models.templates.findOne({ key, deletedAt: null }).lean<TemplateRecord>();
        return head ? { version: head.version, content: contentOf(head) } : null;
      },
      version: async (key, version) => {
        const stored = await models.versions.findOne({ key, version }).lean<TemplateVersionRecord>();
        if (stored) return contentOf(stored);
        // The history write after an edit may not have happened yet (or a crash skipped it): the head has it.
        const head = await models.templates.findOne({ key, version }).lean<TemplateRecord>();
        return head ? contentOf(head) : null;
      },
    },
  });
  return { models, engine, variables, cache, shipped: new Map(), log: log.child({ component: 'templates' }) };
}

export function contentOf(record: TemplateContent): TemplateContent {
  return {
    ...(record.description !== undefined && record.description !== null
      ? { description: record.description }
      : {}),
    channels: record.channels,
    defaultLocale: record.defaultLocale,
    locales: record.locales,
    variables: record.variables ?? EMPTY_VARIABLES,
  };
}

export const contentHash = (content: TemplateContent) => requestHash(contentOf(content));

/** Validates content for saving; a broken part is 422 naming it. */
export function checkedContent(t: Templates, input: TemplateContent, pointer = '/body'): TemplateContent {
  const { content, errors } = checkTemplate(t.engine, t.variables, input, pointer);
  if (errors.length) throw invalidTemplate(errors);
  return content;
}

const versionConflict = (key: string, current: number) =>
  new ConflictError(
    'template_version_conflict',
    `Template "${key}" was changed meanwhile (now version ${current}): read it again and retry`,
  );

const notFound = (key: string) => new NotFoundError('template_not_found', `No template "${key}"`);

/**
 * Makes sure the head's version is in the history. Idempotent (insert if
 * absent): it runs after every head write, and again before an edit and
 * when the history is read, which heals a crash between the two writes.
 * Two instances doing it at once collide on the unique index: fine.
 */
export async function recordVersion(t: Templates, head: TemplateRecord): Promise<void> {
  try {
    await t.models.versions.updateOne(
      { key: head.key, version: head.version },
      {
        $setOnInsert: {
          ...contentOf(head),
          contentHash: head.contentHash,
          createdBy: head.updatedBy,
          createdAt: head.updatedAt,
        },
      },
      { upsert: true },
    );
  } catch (error) {
    if (mapMongoError(error) === error) throw error;
  }
}

/** `$set` for the content, `$unset` for an optional field it no longer has. */
function contentUpdate(content: TemplateContent, extra: Record<string, unknown>) {
  const { description, ...rest } = content;
  return {
    $set: { ...rest, ...(description !== undefined ? { description } : {}), ...extra },
    ...(description === undefined ? { $unset: { description: '' } } : {}),
  };
}

export async function createTemplate(
  t: Templates,
  input: CreateTemplateBody,
  actor: string,
): Promise<TemplateRecord> {
  const { key, ...fields } = input;
  const content = checkedContent(t, { ...fields, variables: fields.variables ?? EMPTY_VARIABLES });
  const contentHash_ = contentHash(content);
  try {
    const [created] = await t.models.templates.insertMany([
      {
        key,
        ...content,
        version: 1,
        contentHash: contentHash_,
        system: false,
        updatedBy: actor,
        deletedAt: null,
      },
    ]);
    const record = created!.toObject() as TemplateRecord;
    await recordVersion(t, record);
    t.cache.invalidate(key);
    return record;
  } catch (error) {
    if (mapMongoError(error) === error) throw error;
  }
  // The key is taken: by a live template (409), or by a deleted one, which comes back as its next version.
  const existing = await t.models.templates.findOne({ key }).lean<TemplateRecord>();
  if (!existing || existing.deletedAt === null) {
    throw new ConflictError(
      'template_exists',
      `A template "${key}" already exists: edit it with PUT or PATCH`,
    );
  }
  const revived = await t.models.templates
    .findOneAndUpdate(
      { key, version: existing.version, deletedAt: { $ne: null } },
      contentUpdate(content, {
        version: existing.version + 1,
        contentHash: contentHash_,
        updatedBy: actor,
        deletedAt: null,
      }),
      { returnDocument: 'after' },
    )
    .lean<TemplateRecord>();
  if (!revived) throw versionConflict(key, existing.version);
  await recordVersion(t, revived);
  t.cache.invalidate(key);
  return revived;
}

/**
 * An edit makes the next version. Optimistic concurrency: the head is
 * replaced only if it is still at the version this edit read (and, when
 * the caller names one, at `baseVersion`); a lost race is 409, never a
 * silent overwrite. An edit that changes nothing makes no version.
 */
async function editTemplate(
  t: Templates,
  key: string,
  baseVersion: number | undefined,
  change: (current: TemplateContent) => TemplateContent,
  actor: string,
): Promise<TemplateRecord> {
  const head = await t.models.templates.findOne({ key, deletedAt: null }).lean<TemplateRecord>();
  if (!head) throw notFound(key);
  if (baseVersion !== undefined && baseVersion !== head.version) throw versionConflict(key, head.version);
  await recordVersion(t, head);
  const content = checkedContent(t, change(contentOf(head)));
  const hash = contentHash(content);
  if (hash === head.contentHash) return head;
  const updated = await t.models.templates
    .findOneAndUpdate(
      { key, version: head.version, deletedAt: null },
      contentUpdate(content, { version: head.version + 1, contentHash: hash, updatedBy: actor }),
      { returnDocument: 'after' },
    )
    .lean<TemplateRecord>();
  if (!updated) {
    const now = await t.models.templates.findOne({ key }, { version: 1 }).lean<TemplateRecord>();
    throw versionConflict(key, now?.version ?? head.version);
  }
  await recordVersion(t, updated);
  t.cache.invalidate(key);
  t.log.info({ key, version: updated.version, actor }, 'template edited');
  return updated;
}

export function replaceTemplate(t: Templates, key: string, input: ReplaceTemplateBody, actor: string) {
  const { baseVersion, ...content } = input;
  return editTemplate(
    t,
    key,
    baseVersion,
    () => ({ ...content, variables: content.variables ?? EMPTY_VARIABLES }),
    actor,
  );
}

export function patchTemplate(t: Templates, key: string, input: PatchTemplateBody, actor: string) {
  const { baseVersion, locales, ...fields } = input;
  return editTemplate(
    t,
    key,
    baseVersion,
    (current) => {
      const merged = { ...current.locales };
      for (const [locale, variant] of Object.entries(locales ?? {})) {
        // The stored key may differ in case from the one given (`pt-br` for `pt-BR`).
        const stored = Object.keys(merged).find((tag) => tag.toLowerCase() === locale.toLowerCase());
        if (stored) delete merged[stored];
        if (variant) merged[locale] = variant;
      }
      return { ...current, ...fields, locales: merged };
    },
    actor,
  );
}

/**
 * Soft delete: notifications name the versions they used, so the history
 * stays. System templates are refused (409): Herald's own flows send them
 * (a deleted verify-email would stop sign-ups), whoever asks; they can be
 * edited instead.
 */
export async function deleteTemplate(t: Templates, key: string, now: Date): Promise<void> {
  const head = await t.models.templates
    .findOne({ key, deletedAt: null }, { system: 1 })
    .lean<TemplateRecord>();
  if (!head) throw notFound(key);
  if (head.system) {
    throw new ConflictError(
      'template_system',
      `"${key}" is a system template that Herald itself sends: edit it instead of deleting it`,
    );
  }
  await t.models.templates.updateOne({ key, deletedAt: null, system: false }, { $set: { deletedAt: now } });
  t.cache.invalidate(key);
  t.log.info({ key }, 'template deleted');
}

export async function getTemplate(t: Templates, key: string): Promise<TemplateRecord> {
  const head = await t.models.templates.findOne({ key, deletedAt: null }).lean<TemplateRecord>();
  if (!head) throw notFound(key);
  return head;
}

function encodeCursor(value: string | number): string {
  return Buffer.from(JSON.stringify([value])).toString('base64url');
}

function decodeCursor<T extends 'string' | 'number'>(
  cursor: string,
  type: T,
): T extends 'string' ? string : number {
  try {
    const [value] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof value === type) return value as T extends 'string' ? string : number;
  } catch {
    // not base64url JSON: the same answer as a well-formed but wrong cursor
  }
  throw new ValidationError('The request is invalid', [
    { field: '/query/cursor', message: 'is not a valid cursor' },
  ]);
}

export async function listTemplates(
  t: Templates,
  query: TemplateListQuery,
): Promise<CursorPage<TemplateSummary>> {
  const limit = query.limit ?? PageLimits.default;
  const records = await t.models.templates
    .find({
      deletedAt: null,
      ...(query.cursor ? { key: { $gt: decodeCursor(query.cursor, 'string') } } : {}),
    })
    .sort({ key: 1 })
    .limit(limit + 1)
    .lean<TemplateRecord[]>();
  const page = records.slice(0, limit);
  return {
    items: page.map(templateSummary),
    nextCursor: records.length > limit ? encodeCursor(page[page.length - 1]!.key) : null,
  };
}

export async function listVersions(
  t: Templates,
  key: string,
  query: TemplateListQuery,
): Promise<CursorPage<TemplateVersionSummary>> {
  const head = await t.models.templates.findOne({ key }).lean<TemplateRecord>();
  if (!head) throw notFound(key);
  await recordVersion(t, head);
  const limit = query.limit ?? PageLimits.default;
  const records = await t.models.versions
    .find(
      { key, ...(query.cursor ? { version: { $lt: decodeCursor(query.cursor, 'number') } } : {}) },
      { locales: 1, channels: 1, version: 1, createdBy: 1, createdAt: 1 },
    )
    .sort({ key: 1, version: -1 })
    .limit(limit + 1)
    .lean<TemplateVersionRecord[]>();
  const page = records.slice(0, limit);
  return {
    items: page.map((record) => ({
      version: record.version,
      locales: Object.keys(record.locales),
      channels: record.channels,
      createdBy: record.createdBy,
      createdAt: record.createdAt.toISOString(),
    })),
    nextCursor: records.length > limit ? encodeCursor(page[page.length - 1]!.version) : null,
  };
}

export async function getVersion(t: Templates, key: string, version: number): Promise<TemplateVersionView> {
  const stored = await t.models.versions.findOne({ key, version }).lean<TemplateVersionRecord>();
  if (stored) return versionView(stored);
  const head = await t.models.templates.findOne({ key, version }).lean<TemplateRecord>();
  if (!head)
    throw new NotFoundError('template_version_not_found', `Template "${key}" has no version ${version}`);
  await recordVersion(t, head);
  return versionView({ ...head, createdBy: head.updatedBy, createdAt: head.updatedAt });
}

export function templateView(record: TemplateRecord): TemplateView {
  return {
    key: record.key,
    ...contentOf(record),
    version: record.version,
    system: record.system,
    updatedBy: record.updatedBy,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

function templateSummary(record: TemplateRecord): TemplateSummary {
  return {
    key: record.key,
    ...(record.description ? { description: record.description } : {}),
    channels: record.channels,
    defaultLocale: record.defaultLocale,
    locales: Object.keys(record.locales),
    version: record.version,
    system: record.system,
    updatedAt: record.updatedAt.toISOString(),
  };
}

function versionView(record: TemplateVersionRecord): TemplateVersionView {
  return {
    key: record.key,
    version: record.version,
    ...contentOf(record),
    createdBy: record.createdBy,
    createdAt: record.createdAt.toISOString(),
  };
}
