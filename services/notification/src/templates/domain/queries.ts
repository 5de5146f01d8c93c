import { NotFoundError } from '@herald/runtime';
import { PageLimits, type CursorPage } from '@herald/contracts';
import { decodeCursor, encodeCursor } from '@herald/runtime/mongo';
import { type TemplateRecord, type TemplateVersionRecord } from '../data/models';
import {
  type PageRequest,
  type TemplateSummary,
  type TemplateVersionSummary,
  type TemplateVersionView,
  type TemplateView,
} from './types';
import { contentOf, type Templates } from './service';
import { notFound, recordVersion } from './store';

/* The read side of the admin API, and the views it answers with. */

export async function getTemplate(t: Templates, key: string): Promise<TemplateRecord> {
  const head = await t.models.templates.findOne({ key, deletedAt: null }).lean<TemplateRecord>();
  if (!head) throw notFound(key);
  return head;
}

export async function listTemplates(t: Templates, query: PageRequest): Promise<CursorPage<TemplateSummary>> {
  const limit = query.limit ?? PageLimits.default;
  const records = await t.models.templates
    .find({
      deletedAt: null,
      ...(query.cursor ? { key: { $gt: decodeCursor(query.cursor, ['string'])[0] } } : {}),
    })
    .sort({ key: 1 })
    .limit(limit + 1)
    .lean<TemplateRecord[]>();
  const page = records.slice(0, limit);
  return {
    items: page.map(templateSummary),
    nextCursor: records.length > limit ? encodeCursor([page[page.length - 1]!.key]) : null,
  };
}

export async function listVersions(
  t: Templates,
  key: string,
  query: PageRequest,
): Promise<CursorPage<TemplateVersionSummary>> {
  const head = await t.models.templates.findOne({ key }).lean<TemplateRecord>();
  if (!head) throw notFound(key);
  await recordVersion(t, head);
  const limit = query.limit ?? PageLimits.default;
  const records = await t.models.versions
    .find(
      { key, ...(query.cursor ? { version: { $lt: decodeCursor(query.cursor, ['number'])[0] } } : {}) },
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
    nextCursor: records.length > limit ? encodeCursor([page[page.length - 1]!.version]) : null,
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
