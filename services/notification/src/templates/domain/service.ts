import { type Logger } from '@herald/runtime';
import { requestHash } from '../../kernel/canonical-hash';
import { TemplateCache } from './cache';
import { CompiledTemplate } from './compiled-template';
import { EMPTY_VARIABLES, type TemplateContent } from './content';
import { createTemplateEngine, type TemplateEngine } from './engine';
import { type TemplateModels, type TemplateRecord, type TemplateVersionRecord } from '../data/models';
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
