import { Type, type Static } from '@sinclair/typebox';
import { Channel } from './channels';
import { Envelope } from './envelope';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime, EmailAddress, PhoneNumber } from './primitives';

/*
 * Workflows ↔ notification (issue 18). The workflows service owns
 * definitions and runs; the notification service owns templates and
 * notifications. They share only these messages:
 * - `workflow.send` (workflows → notification): a run's channel step asks
 *   for one notification, under an id the run chose and stored before
 *   publishing, so a step fired twice (a crash between publish and record,
 *   a redelivery) lands on the same notification and sends once;
 * - `template.changed` (notification → workflows): which templates exist
 *   and on which channels, so a definition naming a missing template is
 *   refused when it is saved (the workflows service's read model).
 * - `workflow.step.refused` (notification → workflows): a `workflow.send`
 *   the notification service will never turn into a notification (the
 *   sender's key revoked, an unknown category, a template gone, a recipient
 *   it may not notify…): the run records the step failed and ends `failed`.
 * The run learns what became of its notifications from `notification.created`
 * and `notification.updated`, which the notification service already publishes.
 */

/** Who a workflow notifies: as `POST /notifications` names a recipient. */
export const WorkflowRecipient = Type.Union(
  [
    Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
    Type.Object({ email: EmailAddress }, { additionalProperties: false }),
    Type.Object({ phone: PhoneNumber }, { additionalProperties: false }),
    Type.Object(
      { subscriberId: Type.String({ pattern: '^[A-Za-z0-9._:@-]{1,128}$' }) },
      { additionalProperties: false },
    ),
  ],
  { description: 'exactly one of userId, email, phone or subscriberId' },
);
export type WorkflowRecipient = Static<typeof WorkflowRecipient>;

/** Who triggered the run: the notification is sent with this principal's rights (an API key or an admin). */
export const WorkflowSender = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('apikey')]),
  id: Type.String({ minLength: 1, maxLength: 64 }),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  scopes: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 16 }),
});
export type WorkflowSender = Static<typeof WorkflowSender>;

export const WorkflowSendPayload = Type.Object({
  /** chosen by the run and stored before publishing: the notification's id (24 hex), the same on every re-fire */
  notificationId: Type.String({ pattern: '^[0-9a-f]{24}$' }),
  runId: Type.String({ minLength: 1, maxLength: 64 }),
  stepId: Type.String({ minLength: 1, maxLength: 64 }),
  workflowKey: Type.String({ minLength: 1, maxLength: 128 }),
  sender: WorkflowSender,
  recipient: WorkflowRecipient,
  channel: Channel,
  template: Type.Object({
    key: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Record(Type.String(), Type.Unknown()),
  }),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  transactionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
export type WorkflowSendPayload = Static<typeof WorkflowSendPayload>;

export const WorkflowSendMessage = Envelope(
  MessageTypes.workflowSend,
  MessageVersions[MessageTypes.workflowSend],
  WorkflowSendPayload,
);
export type WorkflowSendMessage = Static<typeof WorkflowSendMessage>;

/** A template as the notification service holds it now: its channels, or deleted. Newer versions win. */
export const TemplateChangedPayload = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 128 }),
  version: Type.Integer({ minimum: 1 }),
  channels: Type.Array(Channel, { uniqueItems: true }),
  deleted: Type.Boolean(),
  at: DateTime,
});
export type TemplateChangedPayload = Static<typeof TemplateChangedPayload>;

export const TemplateChangedMessage = Envelope(
  MessageTypes.templateChanged,
  MessageVersions[MessageTypes.templateChanged],
  TemplateChangedPayload,
);
export type TemplateChangedMessage = Static<typeof TemplateChangedMessage>;

/**
 * A run's status as the workflows service keeps it: `active` from the
 * trigger on, then one terminal state (a run gathered into another's digest
 * ends `digested`, one over a throttle's limit `throttled`).
 */
export const WorkflowRunStatuses = [
  'active',
  'completed',
  'cancelled',
  'throttled',
  'digested',
  'failed',
] as const;
export const WorkflowRunStatus = Type.Union(WorkflowRunStatuses.map((status) => Type.Literal(status)));
export type WorkflowRunStatus = Static<typeof WorkflowRunStatus>;

/**
 * `workflow.run.changed` (workflows → notification): a run started (`active`)
 * or ended, published at least once from the run document (recorded in the
 * same write as the change, published by the poller's relay). The notification
 * service turns it into the outgoing webhook events `workflow.run.*`.
 */
export const WorkflowRunChangedPayload = Type.Object({
  runId: Type.String({ pattern: '^[0-9a-f]{24}$' }),
  workflowKey: Type.String({ minLength: 1, maxLength: 128 }),
  workflowVersion: Type.Integer({ minimum: 1 }),
  status: WorkflowRunStatus,
  /** who triggered the run: the API key's id or the user's id */
  senderId: Type.String({ minLength: 1, maxLength: 64 }),
  senderKind: Type.Union([Type.Literal('user'), Type.Literal('apikey')]),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  transactionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** the recipient's key: the user id, `sub:<externalId>`, `email:<address>` or `phone:<number>` */
  recipient: Type.String({ minLength: 1, maxLength: 320 }),
  /** the notifications the run's channel steps made so far */
  notificationIds: Type.Array(Type.String({ pattern: '^[0-9a-f]{24}$' }), { maxItems: 1000 }),
  startedAt: DateTime,
  /** when the run reached this status */
  at: DateTime,
});
export type WorkflowRunChangedPayload = Static<typeof WorkflowRunChangedPayload>;

export const WorkflowRunChangedMessage = Envelope(
  MessageTypes.workflowRunChanged,
  MessageVersions[MessageTypes.workflowRunChanged],
  WorkflowRunChangedPayload,
);
export type WorkflowRunChangedMessage = Static<typeof WorkflowRunChangedMessage>;

/**
 * `workflow.step.refused` (notification → workflows): the notification
 * service refused a run's `workflow.send` for good (it would refuse it the
 * same way every time), so no notification exists under `notificationId`.
 * Published again on every redelivery of the send; the run applies it once.
 */
export const WorkflowStepRefusedPayload = Type.Object({
  runId: Type.String({ minLength: 1, maxLength: 64 }),
  stepId: Type.String({ minLength: 1, maxLength: 64 }),
  notificationId: Type.String({ pattern: '^[0-9a-f]{24}$' }),
  /** the refusal's stable code, e.g. `sender_key_invalid`, `unknown_category`, `template_not_found` */
  code: Type.String({ minLength: 1, maxLength: 64 }),
  /** what was wrong, for the run's history (never secrets) */
  reason: Type.String({ maxLength: 500 }),
  at: DateTime,
});
export type WorkflowStepRefusedPayload = Static<typeof WorkflowStepRefusedPayload>;

export const WorkflowStepRefusedMessage = Envelope(
  MessageTypes.workflowStepRefused,
  MessageVersions[MessageTypes.workflowStepRefused],
  WorkflowStepRefusedPayload,
);
export type WorkflowStepRefusedMessage = Static<typeof WorkflowStepRefusedMessage>;
