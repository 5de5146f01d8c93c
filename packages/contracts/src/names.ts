/**
 * Names of everything Herald declares on RabbitMQ.
 *
 * A deployed name is never renamed: a new name is a new queue, and messages
 * waiting in the old one would be stranded. Add names; do not change them.
 *
 * Tests and side-by-side deployments isolate themselves with a namespace
 * prefix (see `@herald/amqp`'s `topologyNames`), never by editing these.
 */

/** Channels a delivery job can be routed to; `in_app` needs no worker. */
export const WorkRoutingKeys = {
  email: 'email',
  sms: 'sms',
  /** Web Push: one job per notification, sent to each of the recipient's browser subscriptions */
  push: 'push',
} as const;
export type WorkRoutingKey = (typeof WorkRoutingKeys)[keyof typeof WorkRoutingKeys];

export const Exchanges = {
  /** direct: delivery jobs, routed by channel to one queue per channel */
  work: 'herald.work',
  /** headers: retries, routed by the `herald-delay-ms` header to the delay queue of that backoff step */
  delay: 'herald.delay',
  /** fanout: everything that cannot be processed, into the one dead-letter queue */
  deadLetter: 'herald.dlx',
  /** topic: domain events (`notification.*`, `delivery.status`, `user.*`, `apikey.*`, `subscriber.*`, `push.*`) */
  /** topic: domain events (`notification.*`, `delivery.status`, `user.*`, `apikey.*`, `subscriber.*`, `topic.*`) */
  events: 'herald.events',
} as const;

export const Queues = {
  workEmail: 'herald.work.email',
  workSms: 'herald.work.sms',
  workPush: 'herald.work.push',
  deadLetter: 'herald.dlq',
  /** the notification service's durable queue for delivery status and user events */
  notificationEvents: 'herald.notification.events',
  /** the workflows service's durable queue: notification events (engagement), template changes, API keys */
  workflowEvents: 'herald.workflows.events',
  /** prefix of each delay queue; the step's TTL in ms completes the name, e.g. `herald.delay.2000` */
  delayPrefix: 'herald.delay.',
  /** prefix of each realtime instance's exclusive, auto-delete fan-out queue */
  realtimePrefix: 'herald.realtime.',
} as const;

export const WorkQueueByRoutingKey: Record<WorkRoutingKey, string> = {
  email: Queues.workEmail,
  sms: Queues.workSms,
  push: Queues.workPush,
};

export const EventRoutingKeys = {
  notificationCreated: 'notification.created',
  /**
   * Many notifications' `notification.created` in one message, for the
   * inboxes (realtime): the notification service's accept path publishes
   * these, one per batch of accepted notifications, not one per notification.
   */
  notificationsCreated: 'notifications.created',
  notificationUpdated: 'notification.updated',
  deliveryStatus: 'delivery.status',
  userRegistered: 'user.registered',
  userUpdated: 'user.updated',
  userVerificationRequested: 'user.verification_requested',
  userRegistrationAttempted: 'user.registration_attempted',
  userPasswordResetRequested: 'user.password_reset_requested',
  userPhoneVerificationRequested: 'user.phone_verification_requested',
  apiKeyUpserted: 'apikey.upserted',
  subscriberUpserted: 'subscriber.upserted',
  subscriberDeleted: 'subscriber.deleted',
  /** the worker: a push service answered 404/410, the browser subscription is gone for good */
  pushSubscriptionGone: 'push.subscription_gone',
  /** a channel's status changed, told to whoever sent the notification (sender-messages.ts) */
  notificationStatus: 'notification.status',
  /** workflows → notification: a run's channel step asks for one notification */
  workflowSend: 'workflow.send',
  /** notification → workflows: which templates exist, for checking definitions */
  templateChanged: 'template.changed',
  /** workflows → notification (outgoing webhooks): a run started or ended */
  workflowRunChanged: 'workflow.run.changed',
  /** notification → workflows: a run's `workflow.send` was refused for good (the run ends `failed`) */
  workflowStepRefused: 'workflow.step.refused',
  topicUpserted: 'topic.upserted',
  topicDeleted: 'topic.deleted',
  topicMembersChanged: 'topic.members_changed',
  /**
   * The same `notification.created` / `notification.updated` messages, sent
   * on to these keys too (BCC) only for notifications a workflow run made:
   * the workflows service's queue binds these, not every notification's
   * events (binding those cost the gateway benchmark 40 % of its rate).
   */
  runNotificationCreated: 'workflows.notification.created',
  runNotificationUpdated: 'workflows.notification.updated',
} as const;
export type EventRoutingKey = (typeof EventRoutingKeys)[keyof typeof EventRoutingKeys];

/** Headers Herald sets on messages. Retries are counted only in our own header, never from `x-death`. */
export const Headers = {
  retryAttempts: 'x-retry-attempts',
  /** routes a retry to its delay queue; headers exchanges ignore names starting with "x-" */
  delay: 'herald-delay-ms',
  originalQueue: 'x-original-queue',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  lastError: 'x-last-error',
  errorCode: 'x-error-code',
  firstFailedAt: 'x-first-failed-at',
  deadLetteredAt: 'x-dead-lettered-at',
  deadLetterReason: 'x-dead-letter-reason',
} as const;
