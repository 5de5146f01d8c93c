import { type Channel } from '@herald/contracts';
import { type LocaleVariant, type VariablesSchema } from '../data/content-types';

/*
 * What the template functions take and give, in their own terms. The HTTP
 * schemas (../schemas.ts) describe the same shapes on the wire; the routes
 * pass the parsed bodies in and return these as the responses, so the
 * compiler holds the two together.
 */

/** A template's content as an admin writes it (variables default to "any object"). */
export interface TemplateInput {
  description?: string;
  channels: Channel[];
  defaultLocale: string;
  locales: Record<string, LocaleVariant>;
  variables?: VariablesSchema;
}

export interface NewTemplate extends TemplateInput {
  key: string;
}

export interface TemplateReplacement extends TemplateInput {
  /** the version this edit is based on; if the template has moved on since, a conflict */
  baseVersion?: number;
}

/** Only the fields given change; a locale set to null is removed. */
export interface TemplatePatch {
  description?: string;
  channels?: Channel[];
  defaultLocale?: string;
  locales?: Record<string, LocaleVariant | null>;
  variables?: VariablesSchema;
  baseVersion?: number;
}

export interface PreviewRequest {
  locale?: string;
  data: Record<string, unknown>;
  version?: number;
}

export interface Preview {
  key: string;
  version: number;
  locale: string;
  subject?: string;
  text?: string;
  html?: string;
  sms?: string;
  inApp?: { title: string; body: string };
}

/** An unsaved template and the sample data to render it with. */
export interface DraftPreviewRequest {
  template: TemplateInput;
  data: Record<string, unknown>;
}

/** Every locale of a draft, each with every channel it declares. */
export interface DraftPreview {
  defaultLocale: string;
  channels: Channel[];
  locales: Record<string, Omit<Preview, 'key' | 'version' | 'locale'>>;
}

export interface PageRequest {
  limit?: number;
  cursor?: string;
}

interface ContentView {
  key: string;
  description?: string;
  channels: Channel[];
  defaultLocale: string;
  locales: Record<string, LocaleVariant>;
  variables: VariablesSchema;
}

export interface TemplateView extends ContentView {
  version: number;
  system: boolean;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface TemplateSummary {
  key: string;
  description?: string;
  channels: Channel[];
  defaultLocale: string;
  locales: string[];
  version: number;
  system: boolean;
  updatedAt: string;
}

export interface TemplateVersionView extends ContentView {
  version: number;
  createdBy: string;
  createdAt: string;
}

export interface TemplateVersionSummary {
  version: number;
  locales: string[];
  channels: Channel[];
  createdBy: string;
  createdAt: string;
}
