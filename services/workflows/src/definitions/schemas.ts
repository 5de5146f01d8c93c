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

export const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
};
