/**
 * The gateway ceiling's upstream: a bare Fastify (no plugins, no database,
 * no broker) that parses the same POST body and answers 202 with a body the
 * size of Herald's. Run as its own process: PORT=… tsx bench/lib/bare-fastify.ts
 */
import { fastify } from 'fastify';

const app = fastify({ logger: false });
app.post('/api/v1/notifications', async (_request, reply) =>
  reply.code(202).send({ id: '000000000000000000000000', statuses: { in_app: 'delivered' } }),
);
app
  .listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
  .then(() => process.stdout.write('LISTENING\n'))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
