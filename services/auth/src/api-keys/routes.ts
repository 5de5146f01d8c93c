import { type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, rotateApiKey } from './domain/api-keys';
import {
  ApiKeyIdParams,
  ApiKeyList,
  ApiKeyListQuery,
  ApiKeyView,
  ApiKeyWithSecretView,
  CreateApiKeyBody,
  RotateApiKeyBody,
} from './schemas';

/** API key administration; `buildApp` registers it inside `adminScope` (admin users and admin keys). */
export function apiKeyRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['api-keys'];
    const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

    app.post(
      '/',
      {
        schema: {
          tags,
          security,
          body: CreateApiKeyBody,
          response: { 201: ApiKeyWithSecretView, ...problems(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        const created = await createApiKey(ctx, request.user.id, request.body, String(request.id));
        // the only response that ever holds the secret: no cache may keep it
        return reply.code(201).header('cache-control', 'no-store').send(created);
      },
    );

    app.get(
      '/',
      {
        schema: {
          tags,
          security,
          querystring: ApiKeyListQuery,
          response: { 200: ApiKeyList, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => listApiKeys(ctx, request.query),
    );

    app.get(
      '/:id',
      {
        schema: {
          tags,
          security,
          params: ApiKeyIdParams,
          response: { 200: ApiKeyView, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => getApiKey(ctx, request.params.id),
    );

    app.post(
      '/:id/rotate',
      {
        schema: {
          tags,
          security,
          params: ApiKeyIdParams,
          body: RotateApiKeyBody,
          response: { 200: ApiKeyWithSecretView, ...problems(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const rotated = await rotateApiKey(ctx, request.params.id, request.body ?? {}, String(request.id));
        return reply.header('cache-control', 'no-store').send(rotated);
      },
    );

    app.post(
      '/:id/revoke',
      {
        schema: {
          tags,
          security,
          params: ApiKeyIdParams,
          response: { 204: { type: 'null' }, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        await revokeApiKey(ctx, request.params.id, String(request.id));
        return reply.code(204).send();
      },
    );
  };
}
