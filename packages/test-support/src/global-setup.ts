import { findDockerEngine } from './infra/docker';
import { provideMongo } from './infra/mongo';
import { provideRabbit } from './infra/rabbitmq';
import { errorMessage, rememberInfrastructure } from './infra/started';

/**
 * Jest globalSetup: one MongoDB and one RabbitMQ for the whole run, found or
 * started in the order of DESIGN.md ("Real components, and where they come
 * from"), handed to the test workers as MONGO_URL and AMQP_URL. Suites
 * isolate themselves inside them (a database and a name prefix each; see
 * index.ts). Nothing is skipped silently: if a component cannot be had, the
 * run fails here with what was tried and how to fix it.
 */

export default async function globalSetup(): Promise<void> {
  const startedAt = Date.now();
  const dockerEndpoint = await findDockerEngine();
  const mongoNotes: string[] = [];
  const rabbitNotes: string[] = [];

  // Independent, so side by side: RabbitMQ is usually found while MongoDB starts.
  const [mongo, rabbit] = await Promise.allSettled([
    provideMongo(dockerEndpoint, mongoNotes),
    provideRabbit(dockerEndpoint, rabbitNotes),
  ]);
  if (mongo.status === 'rejected' || rabbit.status === 'rejected') {
    // Jest skips globalTeardown when globalSetup throws: stop what did start.
    const started = [mongo, rabbit].flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    const failures = [mongo, rabbit].flatMap((result) =>
      result.status === 'rejected' ? [result.reason] : [],
    );
    await Promise.allSettled(started.map((provided) => provided.stop()));
    throw new Error(
      `[test-support] cannot provide the test infrastructure:\n${failures.map(errorMessage).join('\n')}`,
    );
  }

  rememberInfrastructure({
    started: [mongo.value, rabbit.value],
    // restored by teardown, so a watch-mode re-run does not mistake our URLs for the user's
    originalEnv: { MONGO_URL: process.env.MONGO_URL, AMQP_URL: process.env.AMQP_URL },
  });
  // Workers are forked after globalSetup and inherit this environment.
  process.env.MONGO_URL = mongo.value.url;
  process.env.AMQP_URL = rabbit.value.url;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const skipped = [...mongoNotes, ...rabbitNotes];
  // eslint-disable-next-line no-console -- the one line that says what this run tests against
  console.log(
    `\n[test-support] MongoDB: ${mongo.value.label} · RabbitMQ: ${rabbit.value.label} · setup ${seconds} s` +
      (skipped.length ? `\n[test-support] passed over: ${skipped.join('; ')}` : ''),
  );
}
