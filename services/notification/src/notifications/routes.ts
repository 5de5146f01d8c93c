import { Type } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { requireScope, Scopes, type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { type ServiceContext } from '../kernel/context';
import { chargeSendQuota, recipientSends, senderKeyOf } from '../plugins/send-quota';
import { cancelNotification, cancelTransaction } from './domain/cancel';
import { withIdempotency } from './domain/idempotency';
import { findVisible, listInbox } from './domain/inbox';
import { deleteNotification, markAllRead, updateNotification } from './domain/read-state';
import { sendNotifications } from './domain/send-notifications';
import { unreadCount } from './domain/unread-count';
import {
  startTopicSend,
  topicMemberCount,
  type TopicSendAccepted as TopicSendAnswer,
} from '../topics/domain/topic-send';
import { TopicSendAccepted } from '../topics/schemas';
import { notificationDetail, notificationStatus } from './domain/views';
import {
  BatchAccepted,
  CancelOutcome,
  CancelTransactionBody,
  CancelTransactionResult,
  CreateNotificationBody,
  IdParams,
  IdempotencyHeaders,
  InboxItem,
  InboxPage,
  InboxQuery,
  NotificationAccepted,
  NotificationDetail,
  NotificationStatus,
  ReadAllResult,
  UnreadCount,
  UpdateNotificationBody,
} from './schemas';

const tags = ['notifications'];
const security = AUTHENTICATED_SECURITY;
/** Sending: users (to themselves), admins, and API keys with `notifications:send`; never an inbox token. */
const canSend = requireScope(Scopes.notificationsSend);
/** The caller's own inbox: users and subscribers (inbox tokens); a key has no inbox. */
const ownInbox = requireScope(Scopes.inbox);
/** One notification by id: its recipient, or a key with `notifications:read` (any notification). */
const canRead = requireScope(Scopes.inbox, Scopes.notificationsRead);

const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  422: ProblemDetails,
};

/**
 * The notifications API; registered in an authenticated context admitting
 * users, API keys and inbox tokens, so `request.user` is set and each route
 * says which scope it needs.
 */
export function registerNotificationRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.post(
    '/',
    {
      schema: {
        tags,
        security,
        summary:
          'Send a notification to `recipient`, or one to each of up to 1,000 `recipients` (202: accepted, delivery is asynchronous)',
        headers: IdempotencyHeaders,
        body: CreateNotificationBody,
        response: {
          202: Type.Union([NotificationAccepted, BatchAccepted, TopicSendAccepted]),
          ...errors,
          429: ProblemDetails,
        },
      },
      onRequest: canSend,
      // a send to a topic is charged each channel once per member it has now, whole or refused whole
      preHandler: chargeSendQuota(ctx, async (body: CreateNotificationBody) => {
        const { recipient } = body;
        if (!recipient || !('topic' in recipient)) return recipientSends(body);
        const members = await topicMemberCount(ctx, recipient.topic);
        return body.channels.map((channel) => ({ channel, count: members }));
      }),
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const correlationId = String(request.id);
      const { recipient } = request.body;
      const send = (
        baseId?: Parameters<typeof sendNotifications>[3]['baseId'],
      ): Promise<Awaited<ReturnType<typeof sendNotifications>> | TopicSendAnswer> =>
        recipient && 'topic' in recipient
          ? startTopicSend(ctx, request.user, recipient.topic, request.body, { correlationId, id: baseId })
          : sendNotifications(ctx, request.user, { ...request.body, recipient }, { correlationId, baseId });
      // Keys are scoped apart from users (`apikey:<id>`); users keep their bare id.
      const scope = request.user.kind === 'user' ? request.user.id : senderKeyOf(request.user);
      const accepted = key
        ? await withIdempotency(ctx, { userId: scope, key, body: request.body }, send)
        : await send();
      // The 202 schema is a union (one, a batch, a topic send): fast-json-stringify picks the branch by
      // validating against each with ajv on every response, 3 % of this service's CPU under load. The
      // answer is built here, by acceptedResponse and its kin, in exactly one of those shapes.
      // (a custom serializer leaves the content type to us: Fastify would answer text/plain)
      return reply
        .code(202)
        .type('application/json; charset=utf-8')
        .serializer(JSON.stringify)
        .send(accepted);
    },
  );

  app.get(
    '/',
    {
      onRequest: ownInbox,
      schema: {
        tags,
        security,
        summary: "The caller's inbox, newest first",
        querystring: InboxQuery,
        response: { 200: InboxPage, ...errors },
      },
    },
    async (request) => listInbox(ctx, request.user, request.query),
  );

  app.get(
    '/unread-count',
    { onRequest: ownInbox, schema: { tags, security, response: { 200: UnreadCount, ...errors } } },
    async (request) => ({ unreadCount: await unreadCount(ctx, request.user.id) }),
  );

  app.post(
    '/read-all',
    {
      onRequest: ownInbox,
      schema: {
        tags,
        security,
        summary: 'Mark every inbox notification read',
        response: { 200: ReadAllResult, ...errors },
      },
    },
    async (request) => markAllRead(ctx, request.user, String(request.id)),
  );

  app.post(
    '/cancel',
    {
      onRequest: canSend,
      schema: {
        tags,
        security,
        summary:
          'Cancel every pending notification the caller sent with this `transactionId` (an admin: anyone’s)',
        body: CancelTransactionBody,
        response: { 200: CancelTransactionResult, ...errors },
      },
    },
    async (request) => cancelTransaction(ctx, request.user, request.body.transactionId),
  );

  app.post(
    '/:id/cancel',
    {
      onRequest: canSend,
      schema: {
        tags,
        security,
        summary:
          'Cancel a scheduled notification before its time: its sender (user or API key) or an admin; 409 once gone out',
        params: IdParams,
        response: { 200: CancelOutcome, ...errors, 409: ProblemDetails },
      },
    },
    async (request) => cancelNotification(ctx, request.user, request.params.id),
  );

  app.get(
    '/:id',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary: 'The full record: per-channel delivery state and status history',
        params: IdParams,
        response: { 200: NotificationDetail, ...errors },
      },
    },
    async (request) => notificationDetail(await findVisible(ctx, request.user, request.params.id)),
  );

  app.get(
    '/:id/status',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary: 'Compact per-channel delivery status',
        params: IdParams,
        response: { 200: NotificationStatus, ...errors },
      },
    },
    async (request) => notificationStatus(await findVisible(ctx, request.user, request.params.id)),
  );

  app.patch(
    '/:id',
    {
      onRequest: ownInbox,
      schema: {
        tags,
        security,
        summary: 'Mark read/unread, archive/restore',
        params: IdParams,
        body: UpdateNotificationBody,
        response: { 200: InboxItem, ...errors },
      },
    },
    async (request) =>
      updateNotification(ctx, request.user, request.params.id, request.body, String(request.id)),
  );

  app.delete(
    '/:id',
    {
      onRequest: ownInbox,
      schema: {
        tags,
        security,
        summary: 'Remove from the inbox (the delivery record stays for audit)',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteNotification(ctx, request.user, request.params.id, String(request.id));
      return reply.code(204).send(null);
    },
  );
}

/** The notifications API; mount inside `authenticated`. */
export const notificationRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerNotificationRoutes(app, ctx);
