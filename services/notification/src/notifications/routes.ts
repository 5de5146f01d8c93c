import { Type } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { chargeSendQuota, oneRecipientSends } from '../plugins/send-quota';
import { createNotification } from './domain/create-notification';
import { withIdempotency } from './domain/idempotency';
import { findVisible, listInbox } from './domain/inbox';
import { deleteNotification, markAllRead, updateNotification } from './domain/read-state';
import { unreadCount } from './domain/unread-count';
import { notificationDetail, notificationStatus } from './domain/views';
import {
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
const security = [{ bearerAuth: [] }];
const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  422: ProblemDetails,
};

/** The notifications API; registered in the authenticated context, so `request.user` is set. */
export function registerNotificationRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.post(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Send a notification (202: accepted, delivery is asynchronous)',
        headers: IdempotencyHeaders,
        body: CreateNotificationBody,
        response: { 202: NotificationAccepted, ...errors, 429: ProblemDetails },
      },
      preHandler: chargeSendQuota(ctx, oneRecipientSends),
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const correlationId = String(request.id);
      const create = (id?: Parameters<typeof createNotification>[3]['id']) =>
        createNotification(ctx, request.user, request.body, { correlationId, id });
      const accepted = key
        ? await withIdempotency(ctx, { userId: request.user.id, key, body: request.body }, create)
        : await create();
      return reply.code(202).send(accepted);
    },
  );

  app.get(
    '/',
    {
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
    { schema: { tags, security, response: { 200: UnreadCount, ...errors } } },
    async (request) => ({ unreadCount: await unreadCount(ctx, request.user.id) }),
  );

  app.post(
    '/read-all',
    {
      schema: {
        tags,
        security,
        summary: 'Mark every inbox notification read',
        response: { 200: ReadAllResult, ...errors },
      },
    },
    async (request) => markAllRead(ctx, request.user, String(request.id)),
  );

  app.get(
    '/:id',
    {
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
