import { Type, type Static } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';

const strict = { additionalProperties: false } as const;

export const WorkflowKey = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });

/**
 * A step, loosely: `id` and `type` and the fields of its type. What is wrong
 * with a step (an unknown type, a missing window, a template that does not
 * exist, a jump to nowhere, a cycle) is reported by the domain, naming the
 * step, rather than as a mismatch against six alternatives.
 */
export const StepBody = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    type: Type.String({ minLength: 1, maxLength: 32 }),
  },
  {
    additionalProperties: true,
    maxProperties: 8,
    description:
      'channel {channel, template} · delay {duration | until} · digest {window, key} · throttle {limit, window, key?} · branch {if, then?, else?} · cancel-on {event, step}; any step: next',
  },
);

const definitionFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })),
  steps: Type.Array(StepBody, { minItems: 1, maxItems: 50 }),
};

const previewFields = {
  data: Type.Optional(
    Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
      maxProperties: 64,
      description:
        'sample trigger data (at most 8 KB serialised): delays until a time and data branches read it',
    }),
  ),
  startAt: Type.Optional(
    Type.String({ format: 'date-time', description: 'the simulated trigger time (default: now)' }),
  ),
};

export const PreviewDefinitionBody = Type.Object(
  { key: Type.Optional(WorkflowKey), ...definitionFields, ...previewFields },
  strict,
);
export const PreviewVersionBody = Type.Object(
  { version: Type.Optional(Type.Integer({ minimum: 1 })), ...previewFields },
  strict,
);

const PlannedStep = Type.Object({
  id: Type.String(),
  type: Type.String(),
  reached: Type.Boolean({ description: 'whether the walk with this data runs the step' }),
  at: Type.Optional(Type.String({ format: 'date-time' })),
  does: Type.String(),
  channel: Type.Optional(Type.String()),
  template: Type.Optional(Type.String()),
  until: Type.Optional(Type.String({ format: 'date-time', description: "a delay's or digest window's end" })),
  keyValue: Type.Optional(Type.Unknown()),
  limit: Type.Optional(Type.Integer()),
  window: Type.Optional(Type.String()),
  holds: Type.Optional(
    Type.Union([Type.Boolean(), Type.Null()], {
      description: "a branch's data condition on the sample data; null: an engagement, assumed not happened",
    }),
  ),
  goesTo: Type.Optional(Type.String()),
});

export const WorkflowPlan = Type.Object(
  {
    key: Type.Optional(Type.String()),
    version: Type.Optional(Type.Integer()),
    startAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' }),
    path: Type.Array(Type.String()),
    steps: Type.Array(PlannedStep),
  },
  { title: 'WorkflowPlan' },
);

export const CreateWorkflowBody = Type.Object({ key: WorkflowKey, ...definitionFields }, strict);
export const ReplaceWorkflowBody = Type.Object(definitionFields, strict);
export const KeyParams = Type.Object({ key: WorkflowKey }, strict);
export const DeleteQuery = Type.Object(
  {
    cancelRuns: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'also cancel its active runs (by default they finish on the version they started with)',
      }),
    ),
  },
  strict,
);
export const VersionParams = Type.Object({ key: WorkflowKey, version: Type.Integer({ minimum: 1 }) }, strict);

export const WorkflowView = Type.Object(
  {
    key: Type.String(),
    version: Type.Integer(),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    category: Type.Optional(Type.String()),
    steps: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Workflow' },
);
export type WorkflowViewBody = Static<typeof WorkflowView>;

export const WorkflowList = Type.Object({ items: Type.Array(WorkflowView) });

export const VersionListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,8}$',
        description: "the previous page's nextCursor: the versions before it",
      }),
    ),
  },
  strict,
);

export const VersionSummary = Type.Object(
  {
    key: Type.String(),
    version: Type.Integer(),
    name: Type.Optional(Type.String()),
    category: Type.Optional(Type.String()),
    stepCount: Type.Integer({ minimum: 0 }),
    createdBy: Type.String({ description: 'who saved it: a user id or an API key id' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'WorkflowVersionSummary' },
);

export const VersionList = Type.Object(
  {
    items: Type.Array(VersionSummary),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'pass as cursor for the next (older) page; null on the last',
    }),
  },
  { title: 'WorkflowVersionList' },
);

export const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
};
