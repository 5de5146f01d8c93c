import { Type } from '@sinclair/typebox';
import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import {
  createWorkflow,
  deleteWorkflow,
  getWorkflow,
  getWorkflowVersion,
  listWorkflowVersions,
  listWorkflows,
  replaceWorkflow,
} from './domain/definitions';
import { previewDefinition, previewVersion } from './domain/preview';
import {
  CreateWorkflowBody,
  DeleteQuery,
  KeyParams,
  PreviewDefinitionBody,
  PreviewVersionBody,
  ReplaceWorkflowBody,
  VersionList,
  VersionListQuery,
  VersionParams,
  WorkflowList,
  WorkflowPlan,
  WorkflowView,
  errors,
} from './schemas';

const tags = ['workflows'];
const security = AUTHENTICATED_SECURITY;

/** Definitions: admins only (admin users and keys with `admin`); mount inside `adminScope`. */
function registerDefinitionRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.post(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Create a workflow (version 1); 400 names each bad step, 409 when the key exists',
        body: CreateWorkflowBody,
        response: { 201: WorkflowView, ...errors },
      },
    },
    async (request, reply) => {
      const { key, ...input } = request.body;
      return reply.code(201).send(await createWorkflow(ctx, key, input, request.user.id));
    },
  );

  app.post(
    '/preview',
    {
      schema: {
        tags,
        security,
        summary:
          'The plan of an unsaved definition with sample data from a simulated start: each step, what it would do and when; nothing is sent or stored (400 names each bad step, as create)',
        body: PreviewDefinitionBody,
        response: { 200: WorkflowPlan, ...errors },
      },
    },
    async (request) => {
      const { data, startAt, key, ...definition } = request.body;
      void key;
      return previewDefinition(ctx, definition, { data, startAt });
    },
  );

  app.post(
    '/:key/preview',
    {
      schema: {
        tags,
        security,
        summary:
          'The plan of a saved version (default: the current one) with sample data; nothing is sent or stored',
        params: KeyParams,
        body: PreviewVersionBody,
        response: { 200: WorkflowPlan, ...errors },
      },
    },
    async (request) => previewVersion(ctx, request.params.key, request.body),
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Every workflow, by key',
        response: { 200: WorkflowList, ...errors },
      },
    },
    async () => ({ items: await listWorkflows(ctx, 500) }),
  );

  app.get(
    '/:key',
    {
      schema: {
        tags,
        security,
        summary: 'The current version',
        params: KeyParams,
        response: { 200: WorkflowView, ...errors },
      },
    },
    async (request) => getWorkflow(ctx, request.params.key),
  );

  app.put(
    '/:key',
    {
      schema: {
        tags,
        security,
        summary: 'Replace the definition: a new version (runs already started keep theirs)',
        params: KeyParams,
        body: ReplaceWorkflowBody,
        response: { 200: WorkflowView, ...errors },
      },
    },
    async (request) => replaceWorkflow(ctx, request.params.key, request.body, request.user.id),
  );

  app.delete(
    '/:key',
    {
      schema: {
        tags,
        security,
        summary:
          'Delete a workflow: 404 to GET and trigger from now on, the key free to create again; its runs finish on their version (cancelRuns=true: cancelled)',
        params: KeyParams,
        querystring: DeleteQuery,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteWorkflow(ctx, request.params.key, request.user.id, {
        cancelRuns: request.query.cancelRuns === true,
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:key/versions',
    {
      schema: {
        tags,
        security,
        summary:
          'Its versions, newest first, a page at a time: who saved each and when (the steps: one version)',
        params: KeyParams,
        querystring: VersionListQuery,
        response: { 200: VersionList, ...errors },
      },
    },
    async (request) => listWorkflowVersions(ctx, request.params.key, request.query),
  );

  app.get(
    '/:key/versions/:version',
    {
      schema: {
        tags,
        security,
        summary: 'One version',
        params: VersionParams,
        response: { 200: WorkflowView, ...errors },
      },
    },
    async (request) => getWorkflowVersion(ctx, request.params.key, request.params.version),
  );
}

export const definitionRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerDefinitionRoutes(app, ctx);
