import { type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { settleWithin } from '../timeout';

/** A dependency check for `/health/ready`: resolves true when the dependency can serve. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

const CHECK_TIMEOUT_MS = 2000;

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Literal('up'), Type.Literal('down')]))),
});

export function registerHealth(
  app: FastifyInstance,
  checks: Record<string, ReadinessCheck>,
  isShuttingDown: () => boolean,
): void {
  app.get(
    '/health/live',
    { schema: { tags: ['health'], response: { 200: HealthResponse } }, logLevel: 'warn' },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: { tags: ['health'], response: { 200: HealthResponse, 503: HealthResponse } },
      logLevel: 'warn',
    },
    async (_request, reply) => {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check)] as const),
      );
      const report = Object.fromEntries(results.map(([name, up]) => [name, up ? 'up' : 'down'] as const));
      // While draining, say "not ready" so load balancers stop sending new work.
      const ready = !isShuttingDown() && results.every(([, up]) => up);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks: report });
    },
  );
}

async function runCheck(check: ReadinessCheck): Promise<boolean> {
  try {
    return await settleWithin(Promise.resolve().then(check), CHECK_TIMEOUT_MS, false);
  } catch {
    return false;
  }
}
