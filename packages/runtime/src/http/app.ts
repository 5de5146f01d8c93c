import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyBaseLogger, type RawServerDefault } from 'fastify';
import { type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Registry } from 'prom-client';
import { type Logger } from '../logger';
import { registerHealth, type ReadinessCheck } from './health';
import { registerMetrics } from './metrics';
import { registerProblemHandlers } from './problem';
import { maskUrlSecrets } from './api-keys';
import { lazyChildLogger } from './lazy-logger';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyInstance {
    /** this app's Prometheus registry; add service metrics here */
    metrics: Registry;
    /** true from the moment shutdown starts; readiness answers 503 */
    isShuttingDown: () => boolean;
    /** starts draining: readiness fails so load balancers stop sending work */
    beginShutdown: () => void;
  }
}

export interface HttpAppOptions {
  /** the service name: logs, metrics label, OpenAPI title */
  service: string;
  version?: string;
  description?: string;
  logger: Logger;
  /** dependency checks for `/health/ready` */
  readiness?: Record<string, ReadinessCheck>;
  /** bytes; requests above it get 413 */
  bodyLimit?: number;
  /** trust X-Forwarded-* from the gateway */
  trustProxy?: boolean | string;
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** As Fastify logs a request, with any API key or link token in the URL replaced. */
function requestForLog(request: {
  method: string;
  url: string;
  headers?: Record<string, unknown>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}) {
  return {
    method: request.method,
    url: maskUrlSecrets(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * The Fastify app every Herald service starts from: TypeBox schemas, problem+json
 * errors, request ids, health, metrics and the OpenAPI document with Swagger UI.
 * Services register their routes on the returned app; nothing here listens.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const lifecycle = { shuttingDown: false };

  const app = Fastify({
    // Fastify's own request serializer, with any API key in the URL blanked (a key in a query string is
    // refused with 400, but the "incoming request" line is written before that).
    loggerInstance: options.logger.child({}, { serializers: { req: requestForLog } }) as FastifyBaseLogger,
    // a request's child logger is made only when it logs something (lazy-logger.ts)
    childLoggerFactory: lazyChildLogger,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // Fastify's default (100) answers 414 to a 128-character subscriber external id in a path.
    routerOptions: { maxParamLength: 256 },
    trustProxy: options.trustProxy ?? false,
    // Accept the gateway's id (so one id follows a request through every hop), or make one.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    ajv: {
      customOptions: {
        // Report every bad field at once, and reject unknown fields rather than silently dropping them.
        allErrors: true,
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('isShuttingDown', () => lifecycle.shuttingDown);
  app.decorate('beginShutdown', () => {
    lifecycle.shuttingDown = true;
  });
  app.addHook('preClose', async () => {
    lifecycle.shuttingDown = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  registerProblemHandlers(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `Herald ${options.service}`,
        version: options.version ?? '0.1.0',
        description: options.description,
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKeyAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'hk_<keyId>_<secret>',
            description: 'An API key, in the Authorization header only (never in the URL)',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.decorate('metrics', registerMetrics(app, options.service));
  registerHealth(app, options.readiness ?? {}, () => lifecycle.shuttingDown);

  return app;
}
