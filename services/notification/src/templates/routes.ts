import { Type } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { requireScope, Scopes, type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { previewDraft, previewTemplate } from './domain/render';
import {
  CreateTemplateBody,
  DraftPreviewBody,
  DraftPreviewResult,
  KeyParams,
  PatchTemplateBody,
  PreviewBody,
  PreviewResult,
  ReplaceTemplateBody,
  TemplateListQuery,
  TemplatePage,
  TemplateVersionPage,
  TemplateVersionView,
  TemplateView,
  VersionParams,
} from './schemas';
import { getTemplate, getVersion, listTemplates, listVersions, templateView } from './domain/queries';
import { type Templates } from './domain/service';
import { createTemplate, deleteTemplate, patchTemplate, replaceTemplate } from './domain/store';

const tags = ['templates'];
const security = AUTHENTICATED_SECURITY;
/** Reading and previewing: `templates:read` (or `templates:write`); an admin user or key has both. */
const canRead = requireScope(Scopes.templatesRead, Scopes.templatesWrite);
/** Creating, editing, deleting: `templates:write`. */
const canWrite = requireScope(Scopes.templatesWrite);
const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
  422: ProblemDetails,
};
/** Several locales of a full email are more than the API's default body limit allows. */
const bodyLimit = 1_048_576;

/**
 * `/api/v1/templates`: admin users (who hold every scope) and API keys with
 * `templates:read` / `templates:write`; a normal user has neither scope.
 * Registered in an `authenticated` scope admitting users and keys.
 */
export function registerTemplateRoutes(app: HttpApp, t: Templates, now: () => Date): void {
  app.post(
    '/',
    {
      onRequest: canWrite,
      bodyLimit,
      schema: {
        tags,
        security,
        summary: 'Create a template (version 1)',
        body: CreateTemplateBody,
        response: { 201: TemplateView, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(templateView(await createTemplate(t, request.body, request.user.id))),
  );

  app.get(
    '/',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary: 'Live templates in key order',
        querystring: TemplateListQuery,
        response: { 200: TemplatePage, ...errors },
      },
    },
    async (request) => listTemplates(t, request.query),
  );

  // The editor's live preview: what the admin is typing, rendered before it is saved. Those who
  // may save a template (`templates:write`: admin users, keys with that scope) may preview one;
  // the body is held to the size a save takes; nothing is stored, cached or sent.
  app.post(
    '/preview',
    {
      onRequest: canWrite,
      bodyLimit,
      schema: {
        tags,
        security,
        summary:
          'Render an unsaved template (every locale and channel) with this data; 422 names a part that does not compile; nothing is stored',
        body: DraftPreviewBody,
        response: { 200: DraftPreviewResult, ...errors },
      },
    },
    async (request) => previewDraft(t, request.body),
  );

  app.get(
    '/:key',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary: 'A template at its current version',
        params: KeyParams,
        response: { 200: TemplateView, ...errors },
      },
    },
    async (request) => templateView(await getTemplate(t, request.params.key)),
  );

  app.put(
    '/:key',
    {
      onRequest: canWrite,
      bodyLimit,
      schema: {
        tags,
        security,
        summary: 'Replace the content: the next version (409 if someone else edited it meanwhile)',
        params: KeyParams,
        body: ReplaceTemplateBody,
        response: { 200: TemplateView, ...errors },
      },
    },
    async (request) =>
      templateView(await replaceTemplate(t, request.params.key, request.body, request.user.id)),
  );

  app.patch(
    '/:key',
    {
      onRequest: canWrite,
      bodyLimit,
      schema: {
        tags,
        security,
        summary: 'Change some fields or locales: the next version (409 if someone else edited it meanwhile)',
        params: KeyParams,
        body: PatchTemplateBody,
        response: { 200: TemplateView, ...errors },
      },
    },
    async (request) =>
      templateView(await patchTemplate(t, request.params.key, request.body, request.user.id)),
  );

  app.delete(
    '/:key',
    {
      onRequest: canWrite,
      schema: {
        tags,
        security,
        summary: 'Delete (soft: the versions stay for audit); system templates are refused with 409',
        params: KeyParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteTemplate(t, request.params.key, now());
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:key/versions',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary: "A template's versions, newest first",
        params: KeyParams,
        querystring: TemplateListQuery,
        response: { 200: TemplateVersionPage, ...errors },
      },
    },
    async (request) => listVersions(t, request.params.key, request.query),
  );

  app.get(
    '/:key/versions/:version',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary: 'One version, in full',
        params: VersionParams,
        response: { 200: TemplateVersionView, ...errors },
      },
    },
    async (request) => getVersion(t, request.params.key, request.params.version),
  );

  app.post(
    '/:key/preview',
    {
      onRequest: canRead,
      schema: {
        tags,
        security,
        summary:
          'Render every channel of a template with this data, as a send would; nothing is stored or sent',
        params: KeyParams,
        body: PreviewBody,
        response: { 200: PreviewResult, ...errors },
      },
    },
    async (request) => previewTemplate(t, request.params.key, request.body),
  );
}

/** The templates API; mount inside `authenticated` with users and API keys admitted. */
export const templateRoutes =
  (t: Templates, now: () => Date): ScopeRoutes =>
  (app) =>
    registerTemplateRoutes(app, t, now);
