import { ProblemDetails } from '@herald/contracts';
import { requireScope, Scopes, type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { getPreferences, setPreferences, subscriberRecipientId } from './domain/preferences';
import { PreferencesView, PutPreferencesBody, SubscriberParams, UserParams } from './schemas';

const tags = ['preferences'];
const security = AUTHENTICATED_SECURITY;
const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  422: ProblemDetails,
};
/** The caller's own preferences: a user (access token) or a subscriber (inbox token). */
const ownPreferences = requireScope(Scopes.inbox);
/** An application's subscribers' preferences: an API key with `subscribers:write` (or an admin). */
const subscribersPreferences = requireScope(Scopes.subscribersWrite);

function registerOwnPreferenceRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.get(
    '/',
    {
      onRequest: ownPreferences,
      schema: {
        tags,
        security,
        summary: "The caller's own preferences",
        response: { 200: PreferencesView, ...errors },
      },
    },
    async (request) => getPreferences(ctx, request.user.id),
  );

  app.put(
    '/',
    {
      onRequest: ownPreferences,
      schema: {
        tags,
        security,
        summary: "Replace the caller's own preferences",
        body: PutPreferencesBody,
        response: { 200: PreferencesView, ...errors },
      },
    },
    async (request) => setPreferences(ctx, request.user.id, request.user, request.body),
  );
}

function registerSubscriberPreferenceRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.get(
    '/:externalId',
    {
      onRequest: subscribersPreferences,
      schema: {
        tags,
        security,
        summary: "A subscriber's preferences",
        params: SubscriberParams,
        response: { 200: PreferencesView, ...errors },
      },
    },
    async (request) => getPreferences(ctx, await subscriberRecipientId(ctx, request.params.externalId)),
  );

  app.put(
    '/:externalId',
    {
      onRequest: subscribersPreferences,
      schema: {
        tags,
        security,
        summary: "Replace a subscriber's preferences",
        params: SubscriberParams,
        body: PutPreferencesBody,
        response: { 200: PreferencesView, ...errors },
      },
    },
    async (request) =>
      setPreferences(
        ctx,
        await subscriberRecipientId(ctx, request.params.externalId),
        request.user,
        request.body,
      ),
  );
}

function registerUserPreferenceRoutes(app: HttpApp, ctx: ServiceContext): void {
  app.get(
    '/:userId',
    {
      schema: {
        tags,
        security,
        summary: "A user's preferences and their last changes (admins)",
        params: UserParams,
        response: { 200: PreferencesView, ...errors },
      },
    },
    async (request) => getPreferences(ctx, request.params.userId),
  );
}

/** `/api/v1/preferences/users`; mount inside `adminScope`: an admin reads anyone's, with the audit. */
export const userPreferenceRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerUserPreferenceRoutes(app, ctx);

/** `/api/v1/preferences`; mount inside `authenticated` admitting users and subscribers. */
export const ownPreferenceRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerOwnPreferenceRoutes(app, ctx);

/**
 * `/api/v1/preferences/subscribers` (the gateway routes `/api/v1/subscribers/*`
 * to auth); mount inside `authenticated` admitting users and API keys.
 */
export const subscriberPreferenceRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerSubscriberPreferenceRoutes(app, ctx);
