import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { cancelRun, cancelTransaction, getRun, listRuns } from './domain/runs';
import { postApplicationEvent } from './domain/events';
import { triggerWorkflow } from './domain/trigger';
import {
  ApplicationEventBody,
  CancelTransactionBody,
  CancelTransactionResult,
  RunDetail,
  RunListQuery,
  RunPage,
  RunParams,
  TriggerAccepted,
  TriggerBody,
  TriggerParams,
  errors,
} from './schemas';

const tags = ['workflow runs'];
const security = AUTHENTICATED_SECURITY;

/**
 * Trigger and cancel by transaction, under `/workflows`. Users and API keys
 * authenticate; the domain lets through keys with `notifications:send` and
 * admins (403 otherwise).
 */
function registerTriggerRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.post(
    '/:key/trigger',
    {
      schema: {
        tags,
        security,
        summary:
          'Start one run per recipient (1–1,000, or each live member of a topic, at most 10,000); 404 for an unknown workflow or topic, 422 for a topic too large',
        params: TriggerParams,
        body: TriggerBody,
        response: { 202: TriggerAccepted, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await triggerWorkflow(ctx, request.user, request.params.key, request.body)),
  );

  app.post(
    '/cancel',
    {
      schema: {
        tags,
        security,
        summary: 'Cancel every active run the caller started under a transactionId (an admin: anyone’s)',
        body: CancelTransactionBody,
        response: { 200: CancelTransactionResult, ...errors },
      },
    },
    async (request) => cancelTransaction(ctx, request.user, request.body.transactionId),
  );

  app.post(
    '/events',
    {
      schema: {
        tags,
        security,
        summary:
          'An application event for a recipient: cancels the caller’s active runs armed with cancel-on of that key (an admin: anyone’s)',
        body: ApplicationEventBody,
        response: { 200: CancelTransactionResult, ...errors },
      },
    },
    async (request) => postApplicationEvent(ctx, request.user, request.body),
  );
}

/** `/workflow-runs`: the caller's runs (an admin: all), one by id, and cancelling one. */
function registerRunRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Runs newest first, per workflow and/or recipient',
        querystring: RunListQuery,
        response: { 200: RunPage, ...errors },
      },
    },
    async (request) => listRuns(ctx, request.user, request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'A run: each step’s outcome, its notifications, what happened to them',
        params: RunParams,
        response: { 200: RunDetail, ...errors },
      },
    },
    async (request) => getRun(ctx, request.user, request.params.id),
  );

  app.post(
    '/:id/cancel',
    {
      schema: {
        tags,
        security,
        summary: 'Cancel an active run: nothing it has not done yet happens; 409 once it has ended',
        params: RunParams,
        response: { 200: RunDetail, ...errors },
      },
    },
    async (request) => cancelRun(ctx, request.user, request.params.id),
  );
}

export const triggerRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerTriggerRoutes(app, ctx);

export const runRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerRunRoutes(app, ctx);
