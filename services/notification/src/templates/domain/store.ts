import { ConflictError, NotFoundError } from '@herald/runtime';
import { mapMongoError } from '@herald/runtime/mongo';
import { checkTemplate } from './compile';
import { EMPTY_VARIABLES, type TemplateContent } from './content';
import { invalidTemplate } from './errors';
import { type TemplateRecord } from '../data/models';
import { type NewTemplate, type TemplatePatch, type TemplateReplacement } from './types';
import { contentHash, contentOf, type Templates } from './service';

/*
 * The write side of templates. Every write to a head is followed by
 * `recordVersion`; every edit is a compare-and-set on the version it read.
 */

export const notFound = (key: string) => new NotFoundError('template_not_found', `No template "${key}"`);

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
  input: NewTemplate,
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

export function replaceTemplate(t: Templates, key: string, input: TemplateReplacement, actor: string) {
  const { baseVersion, ...content } = input;
  return editTemplate(
    t,
    key,
    baseVersion,
    () => ({ ...content, variables: content.variables ?? EMPTY_VARIABLES }),
    actor,
  );
}

export function patchTemplate(t: Templates, key: string, input: TemplatePatch, actor: string) {
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
