import { Type, type Static } from '@sinclair/typebox';
import { Channel, CursorPage, CursorQuery } from '@herald/contracts';
import { InAppContent, LocaleVariant, RenderedChannels, VariablesSchema } from './data/content-types';

export { InAppContent, LocaleVariant, RenderedChannels, VariablesSchema };

/*
 * HTTP schemas of the templates API, strict like the rest of the service:
 * an unknown field is a 400 naming it. The content rules a schema cannot
 * say (a part that does not compile, a channel without content in some
 * locale) are checked by `checkTemplate` and answered 422.
 */
const strict = { additionalProperties: false } as const;
const Instant = Type.String({ format: 'date-time' });

export const TemplateKey = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{0,127}$',
  description: 'lower case letters, digits, `.`, `_` and `-`, e.g. `order-shipped`',
});
export const TemplateLocale = Type.String({
  pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
  description: 'a BCP 47 tag such as `en`, `pt-BR`; stored in canonical case',
});

const Locales = Type.Record(TemplateLocale, LocaleVariant, {
  minProperties: 1,
  maxProperties: 50,
  description: 'the content per locale: `{ "en": {...}, "pt-BR": {...} }`',
});

const Channels = Type.Array(Channel, { minItems: 1, maxItems: 3, uniqueItems: true });
const Description = Type.String({ maxLength: 1_000 });
const BaseVersion = Type.Integer({
  minimum: 1,
  description: 'the version this edit is based on; if the template has moved on since, 409',
});

/** Everything a version holds; the head adds its bookkeeping. */
const contentFields = {
  description: Type.Optional(Description),
  channels: Channels,
  defaultLocale: TemplateLocale,
  locales: Locales,
  variables: Type.Optional(VariablesSchema),
};

export const CreateTemplateBody = Type.Object(
  { key: TemplateKey, ...contentFields },
  { ...strict, title: 'CreateTemplate' },
);
export type CreateTemplateBody = Static<typeof CreateTemplateBody>;

export const ReplaceTemplateBody = Type.Object(
  { ...contentFields, baseVersion: Type.Optional(BaseVersion) },
  { ...strict, title: 'ReplaceTemplate' },
);
export type ReplaceTemplateBody = Static<typeof ReplaceTemplateBody>;

export const PatchTemplateBody = Type.Object(
  {
    description: Type.Optional(Description),
    channels: Type.Optional(Channels),
    defaultLocale: Type.Optional(TemplateLocale),
    locales: Type.Optional(
      Type.Record(TemplateLocale, Type.Union([LocaleVariant, Type.Null()]), {
        minProperties: 1,
        description: 'each locale given replaces that variant; `null` removes it',
      }),
    ),
    variables: Type.Optional(VariablesSchema),
    baseVersion: Type.Optional(BaseVersion),
  },
  { ...strict, minProperties: 1, title: 'PatchTemplate' },
);
export type PatchTemplateBody = Static<typeof PatchTemplateBody>;

export const TemplateView = Type.Object(
  {
    key: Type.String(),
    description: Type.Optional(Type.String()),
    channels: Type.Array(Channel),
    defaultLocale: Type.String(),
    locales: Type.Record(Type.String(), LocaleVariant),
    variables: VariablesSchema,
    version: Type.Integer({ minimum: 1 }),
    system: Type.Boolean({ description: 'shipped with Herald and used by it; can be edited, not deleted' }),
    updatedBy: Type.String(),
    createdAt: Instant,
    updatedAt: Instant,
  },
  { title: 'Template' },
);
export type TemplateView = Static<typeof TemplateView>;

export const TemplateSummary = Type.Object(
  {
    key: Type.String(),
    description: Type.Optional(Type.String()),
    channels: Type.Array(Channel),
    defaultLocale: Type.String(),
    locales: Type.Array(Type.String()),
    version: Type.Integer({ minimum: 1 }),
    system: Type.Boolean(),
    updatedAt: Instant,
  },
  { title: 'TemplateSummary' },
);
export type TemplateSummary = Static<typeof TemplateSummary>;
export const TemplatePage = CursorPage(TemplateSummary);

export const TemplateVersionView = Type.Object(
  {
    key: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    description: Type.Optional(Type.String()),
    channels: Type.Array(Channel),
    defaultLocale: Type.String(),
    locales: Type.Record(Type.String(), LocaleVariant),
    variables: VariablesSchema,
    createdBy: Type.String(),
    createdAt: Instant,
  },
  { title: 'TemplateVersion' },
);
export type TemplateVersionView = Static<typeof TemplateVersionView>;

export const TemplateVersionSummary = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    locales: Type.Array(Type.String()),
    channels: Type.Array(Channel),
    createdBy: Type.String(),
    createdAt: Instant,
  },
  { title: 'TemplateVersionSummary' },
);
export type TemplateVersionSummary = Static<typeof TemplateVersionSummary>;
export const TemplateVersionPage = CursorPage(TemplateVersionSummary);

export const KeyParams = Type.Object({ key: TemplateKey }, strict);
export const VersionParams = Type.Object({ key: TemplateKey, version: Type.Integer({ minimum: 1 }) }, strict);
export const TemplateListQuery = Type.Object({ ...CursorQuery.properties }, strict);
export type TemplateListQuery = Static<typeof TemplateListQuery>;

export const TemplateData = Type.Record(Type.String(), Type.Unknown(), {
  default: {},
  description: "the template's variables, checked against its `variables` schema",
});

export const PreviewBody = Type.Object(
  {
    locale: Type.Optional(TemplateLocale),
    data: TemplateData,
    version: Type.Optional(
      Type.Integer({ minimum: 1, description: 'an older version; default the current' }),
    ),
  },
  { ...strict, title: 'TemplatePreviewRequest' },
);
export type PreviewBody = Static<typeof PreviewBody>;

export const DraftPreviewBody = Type.Object(
  {
    template: Type.Object(contentFields, { ...strict, title: 'TemplateDraft' }),
    data: TemplateData,
  },
  { ...strict, title: 'TemplateDraftPreviewRequest' },
);
export type DraftPreviewBody = Static<typeof DraftPreviewBody>;

const RenderedVariant = Type.Object(
  {
    subject: Type.Optional(Type.String()),
    text: Type.Optional(Type.String()),
    html: Type.Optional(Type.String({ description: 'inside the shared layout, CSS inlined' })),
    sms: Type.Optional(Type.String()),
    inApp: Type.Optional(InAppContent),
  },
  { title: 'RenderedTemplateVariant' },
);

export const DraftPreviewResult = Type.Object(
  {
    defaultLocale: Type.String(),
    channels: Type.Array(Channel),
    locales: Type.Record(Type.String(), RenderedVariant, {
      description: 'every locale of the draft, each with every channel it declares',
    }),
  },
  { title: 'TemplateDraftPreview' },
);
export type DraftPreviewResult = Static<typeof DraftPreviewResult>;

export const PreviewResult = Type.Object(
  {
    key: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    locale: Type.String({ description: 'the variant used, after the fallback chain' }),
    subject: Type.Optional(Type.String()),
    text: Type.Optional(Type.String()),
    html: Type.Optional(Type.String({ description: 'inside the shared layout, CSS inlined' })),
    sms: Type.Optional(Type.String()),
    inApp: Type.Optional(InAppContent),
  },
  { title: 'TemplatePreview' },
);
export type PreviewResult = Static<typeof PreviewResult>;
