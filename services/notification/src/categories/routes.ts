import { Type } from '@sinclair/typebox';
import { ProblemDetails } from '@herald/contracts';
import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { AUTHENTICATED_SECURITY } from '../kernel/openapi';
import { type CategoryRecord } from './data/category-model';
import { type Categories } from './domain/categories';
import {
  CategoryList,
  CategoryParams,
  CategoryView,
  CreateCategoryBody,
  UpdateCategoryBody,
} from './schemas';

const tags = ['categories'];
const security = AUTHENTICATED_SECURITY;
const errors = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  409: ProblemDetails,
};

function view(record: CategoryRecord): CategoryView {
  return {
    key: record._id,
    name: record.name,
    ...(record.description !== undefined ? { description: record.description } : {}),
    defaultChannels: record.defaultChannels,
    critical: record.critical,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

function registerCategoryRoutes(app: HttpApp, categories: Categories): void {
  app.post(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Create a category',
        body: CreateCategoryBody,
        response: { 201: CategoryView, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(view(await categories.create(request.body))),
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Every category, in key order',
        response: { 200: CategoryList, ...errors },
      },
    },
    async () => ({ items: (await categories.list()).map(view) }),
  );

  app.get(
    '/:key',
    {
      schema: {
        tags,
        security,
        summary: 'One category',
        params: CategoryParams,
        response: { 200: CategoryView, ...errors },
      },
    },
    async (request) => view(await categories.get(request.params.key)),
  );

  app.patch(
    '/:key',
    {
      schema: {
        tags,
        security,
        summary: 'Change a category (name, description, default channels, critical)',
        params: CategoryParams,
        body: UpdateCategoryBody,
        response: { 200: CategoryView, ...errors },
      },
    },
    async (request) => view(await categories.update(request.params.key, request.body)),
  );

  app.delete(
    '/:key',
    {
      schema: {
        tags,
        security,
        summary: "Delete a category (not 'general')",
        params: CategoryParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await categories.delete(request.params.key);
      return reply.code(204).send(null);
    },
  );
}

/** `/api/v1/categories`; mount inside `adminScope` (admin users, `admin` keys). */
export const categoryRoutes =
  (categories: Categories): ScopeRoutes =>
  (app) =>
    registerCategoryRoutes(app, categories);
