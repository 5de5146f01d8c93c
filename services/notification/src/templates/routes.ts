import { Type } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { previewTemplate } from './domain/render';
import {
  CreateTemplateBody,
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
const security = [{ bearerAuth: [] }];
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
 * `/api/v1/templates`, for admins only: the scope this is registered in
 * authenticates and requires the admin role for every route.
 */
export function registerTemplateRoutes(app: HttpApp, t: Templates, now: () => Date): void {
  app.post(
    '/',
    {
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

  app.get(
    '/:key',
    {
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

/** The admin's templates API; mount inside `adminScope`. */
export const templateRoutes =
  (t: Templates, now: () => Date): ScopeRoutes =>
  (app) =>
    registerTemplateRoutes(app, t, now);
