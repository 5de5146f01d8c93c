import { Type, type Static } from '@sinclair/typebox';
import { type Channel } from '@herald/contracts';

/*
 * The shapes of template content, shared by the template store, the
 * notification and broadcast records that keep what was rendered, and the
 * HTTP schemas (which compose these). Kept below the domain so models can
 * name them without importing routes or domain code.
 */
const strict = { additionalProperties: false } as const;

export const LocaleVariant = Type.Object(
  {
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 998, description: 'email subject' })),
    text: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100_000,
        description: 'email plain-text part; generated from `html` when absent',
      }),
    ),
    html: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200_000,
        description: 'email HTML body, wrapped in the shared layout; values are HTML-escaped',
      }),
    ),
    sms: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1_600, description: 'SMS text; plain, markup is refused' }),
    ),
    inApp: Type.Optional(
      Type.Object(
        {
          title: Type.String({ minLength: 1, maxLength: 1_000 }),
          body: Type.String({ minLength: 1, maxLength: 20_000 }),
        },
        strict,
      ),
    ),
  },
  { ...strict, minProperties: 1, title: 'TemplateLocaleVariant' },
);
export type LocaleVariant = Static<typeof LocaleVariant>;

export const VariablesSchema = Type.Object(
  {
    type: Type.Literal('object'),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    required: Type.Optional(Type.Array(Type.String())),
  },
  {
    additionalProperties: true,
    title: 'TemplateVariables',
    description:
      'a JSON Schema (draft 2020-12 subset that ajv 8 knows) for `data`: a send whose data fails it is 422',
  },
);
export type VariablesSchema = Static<typeof VariablesSchema>;

export const InAppContent = Type.Object({ title: Type.String(), body: Type.String() });

/** What a send renders, per channel; stored on the notification as the record of what was sent. */
export const RenderedChannels = Type.Object(
  {
    inApp: Type.Optional(InAppContent),
    email: Type.Optional(
      Type.Object({
        subject: Type.String(),
        text: Type.String(),
        html: Type.Optional(Type.String()),
      }),
    ),
    sms: Type.Optional(Type.String()),
  },
  { title: 'RenderedContent' },
);
export type RenderedChannels = Static<typeof RenderedChannels>;

/** What one version of a template is: everything needed to render it, and nothing else. */
export interface TemplateContent {
  description?: string;
  channels: Channel[];
  defaultLocale: string;
  /** by canonical locale tag (`pt-BR`, not `pt-br`) */
  locales: Record<string, LocaleVariant>;
  variables: VariablesSchema;
}
