import { Readable } from 'node:stream';
import { AppError } from '@herald/runtime';
import { Scopes, requireScope, type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { getImport, importCsv, listImports } from './domain/import';
import { addMembers, listMembers, removeMembers, subscriberTopics } from './domain/members';
import { createTopic, deleteTopic, getTopic, listTopics, renameTopic } from './domain/topics';
import {
  CreateTopicBody,
  ImportParams,
  ImportQuery,
  ImportList,
  ImportRecord,
  ImportReport,
  ListQuery,
  MemberList,
  MembersAdded,
  MembersBody,
  MembersRemoved,
  RenameTopicBody,
  SubscriberTopicList,
  SubscriberTopicsParams,
  TopicList,
  TopicParams,
  TopicView,
} from './schemas';

const tags = ['topics'];
const security: Record<string, string[]>[] = [{ apiKeyAuth: [] }, { bearerAuth: [] }];
/**
 * Topics are lists of subscribers: whoever manages subscribers (a key with
 * `subscribers:write`, an admin) manages topics. A person's own token has no
 * such scope (403), an inbox token never gets in (the scope admits users and keys).
 */
const writer = requireScope(Scopes.subscribersWrite);

/** Mounted at `/api/v1/topics` inside `authenticated(…, { principals: ['user', 'apikey'] })`. */
export function topicRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    // The CSV import reads the body as a stream: the parser gets it as it arrives, never whole.
    app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

    app.post(
      '/',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          body: CreateTopicBody,
          response: { 201: TopicView, ...problems(400, 401, 403, 409, 429) },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await createTopic(ctx, request.body, String(request.id))),
    );

    app.get(
      '/',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          querystring: ListQuery,
          response: { 200: TopicList, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => listTopics(ctx, request.query),
    );

    app.get(
      '/:key',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: TopicParams,
          response: { 200: TopicView, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => getTopic(ctx, request.params.key),
    );

    app.patch(
      '/:key',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: TopicParams,
          body: RenameTopicBody,
          response: { 200: TopicView, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => renameTopic(ctx, request.params.key, request.body.name, String(request.id)),
    );

    app.delete(
      '/:key',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: TopicParams,
          response: { 204: { type: 'null' }, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        await deleteTopic(ctx, request.params.key, String(request.id));
        return reply.code(204).send();
      },
    );

    app.post(
      '/:key/members',
      {
        preHandler: writer,
        // 10,000 ids of up to 128 characters: about 1.4 MB of JSON
        bodyLimit: 2 * 1024 * 1024,
        schema: {
          tags,
          security,
          summary: 'Add up to 10,000 subscribers by external id; unknown ids are named, not added',
          params: TopicParams,
          body: MembersBody,
          response: { 200: MembersAdded, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => addMembers(ctx, request.params.key, request.body.subscriberIds, String(request.id)),
    );

    app.post(
      '/:key/members/remove',
      {
        preHandler: writer,
        bodyLimit: 2 * 1024 * 1024,
        schema: {
          tags,
          security,
          summary: 'Remove up to 10,000 subscribers by external id',
          params: TopicParams,
          body: MembersBody,
          response: { 200: MembersRemoved, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) =>
        removeMembers(ctx, request.params.key, request.body.subscriberIds, String(request.id)),
    );

    app.get(
      '/:key/members',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          params: TopicParams,
          querystring: ListQuery,
          response: { 200: MemberList, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => listMembers(ctx, request.params.key, request.query),
    );

    app.post(
      '/:key/import',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          summary:
            'Import a CSV (text/csv, streamed) into subscribers and this topic: columns email (required), externalId, phone, name, locale, timezone; any other column goes into data',
          params: TopicParams,
          querystring: ImportQuery,
          response: { 200: ImportReport, ...problems(400, 401, 403, 404, 415, 429) },
        },
      },
      async (request) => {
        if (!(request.body instanceof Readable)) {
          throw new AppError(415, 'csv_required', 'Send the file as the body, with Content-Type: text/csv');
        }
        return importCsv(ctx, {
          key: request.params.key,
          createTopicIfMissing: request.query.createTopic,
          source: request.body,
          correlationId: String(request.id),
        });
      },
    );

    app.get(
      '/:key/imports',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          summary: "A topic's last 20 imports, newest first, with their reports so far",
          params: TopicParams,
          response: { 200: ImportList, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => listImports(ctx, request.params.key),
    );

    app.get(
      '/:key/imports/:importId',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          summary: "An import's report so far (also for one cut short)",
          params: ImportParams,
          response: { 200: ImportRecord, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => getImport(ctx, request.params.key, request.params.importId),
    );
  };
}

/** `GET /api/v1/subscribers/:externalId/topics`: mounted at the subscribers' prefix, in the same scope. */
export function subscriberTopicRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    app.get(
      '/:externalId/topics',
      {
        preHandler: writer,
        schema: {
          tags,
          security,
          summary: "A subscriber's topics",
          params: SubscriberTopicsParams,
          querystring: ListQuery,
          response: { 200: SubscriberTopicList, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => subscriberTopics(ctx, request.params.externalId, request.query),
    );
  };
}
