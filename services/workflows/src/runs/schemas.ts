import { Type } from '@sinclair/typebox';
import { CursorQuery, ProblemDetails, TopicKey, WorkflowRecipient } from '@herald/contracts';

const strict = { additionalProperties: false } as const;
const Instant = Type.String({ format: 'date-time' });

export const MAX_RECIPIENTS = 1_000;

export const TransactionId = Type.String({
  minLength: 1,
  maxLength: 128,
  description:
    'the caller’s own id for what caused it: the same id never starts a second run for a recipient',
});

export const TriggerBody = Type.Object(
  {
    recipients: Type.Union(
      [
        Type.Array(WorkflowRecipient, { minItems: 1, maxItems: MAX_RECIPIENTS }),
        Type.Object({ topic: TopicKey }, strict),
      ],
      {
        description:
          '1–1,000 recipients, or { topic }: one run per live member of an auth topic (at most 10,000 members)',
      },
    ),
    data: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
        maxProperties: 64,
        description: 'the template data of every step, at most 8 KB serialised',
      }),
    ),
    transactionId: Type.Optional(TransactionId),
  },
  strict,
);

export const ApplicationEventBody = Type.Object(
  {
    key: Type.String({
      pattern: '^[a-z0-9][a-z0-9_.:-]{0,63}$',
      description: 'the event key a `cancel-on` step names, e.g. payment.received',
    }),
    recipient: Type.Union(
      [
        Type.Object({ subscriberId: Type.String({ pattern: '^[A-Za-z0-9._:@-]{1,128}$' }) }, strict),
        Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) }, strict),
      ],
      { description: 'whose runs: exactly one of subscriberId or userId' },
    ),
    transactionId: Type.Optional(TransactionId),
    data: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
        maxProperties: 64,
        description: 'kept on the runs it cancels, at most 8 KB serialised',
      }),
    ),
  },
  strict,
);

export const TriggerParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 128 }) }, strict);
export const RunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
export const CancelTransactionBody = Type.Object({ transactionId: TransactionId }, strict);
export const CancelTransactionResult = Type.Object({ cancelled: Type.Array(Type.String()) });

export const RunSummary = Type.Object(
  {
    id: Type.String(),
    workflowKey: Type.String(),
    workflowVersion: Type.Integer(),
    recipient: WorkflowRecipient,
    recipientKey: Type.String(),
    status: Type.String({
      description: 'active, completed, cancelled, throttled, digested (gathered into another run) or failed',
    }),
    transactionId: Type.Optional(Type.String()),
    createdAt: Instant,
    updatedAt: Instant,
    wakeAt: Type.Optional(Instant),
    endedAt: Type.Optional(Instant),
  },
  { title: 'WorkflowRunSummary' },
);

export const RunDetail = Type.Object(
  {
    ...RunSummary.properties,
    data: Type.Record(Type.String(), Type.Unknown()),
    waiting: Type.Optional(Type.Object({ stepId: Type.String(), until: Instant })),
    steps: Type.Array(
      Type.Object({
        stepId: Type.String(),
        type: Type.String(),
        outcome: Type.String(),
        at: Instant,
        notificationId: Type.Optional(Type.String()),
        detail: Type.Optional(Type.String()),
      }),
    ),
    notifications: Type.Array(
      Type.Object({
        stepId: Type.String(),
        channel: Type.String(),
        notificationId: Type.String(),
        refused: Type.Optional(
          Type.Object(
            { code: Type.String(), reason: Type.String(), at: Instant },
            { description: 'the notification service refused this send: nothing was created under the id' },
          ),
        ),
      }),
    ),
    engagement: Type.Array(Type.Object({ notificationId: Type.String(), kind: Type.String(), at: Instant })),
    digest: Type.Optional(Type.Object({ eventCount: Type.Integer() })),
    digestedInto: Type.Optional(Type.String()),
    cancelledBy: Type.Optional(
      Type.Object(
        {
          event: Type.String(),
          data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          at: Instant,
        },
        { description: 'the application event (POST /workflows/events) that cancelled the run' },
      ),
    ),
  },
  { title: 'WorkflowRun' },
);

export const TriggerAccepted = Type.Object({ runs: Type.Array(RunSummary) });

export const RunListQuery = Type.Object(
  {
    ...CursorQuery.properties,
    workflow: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    recipient: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 300,
        description: 'a recipient key: a user id, sub:<externalId>, email:<address> or phone:<number>',
      }),
    ),
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  },
  strict,
);

export const RunPage = Type.Object({
  items: Type.Array(RunSummary),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
  422: ProblemDetails,
};
