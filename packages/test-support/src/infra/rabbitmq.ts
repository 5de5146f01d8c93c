import amqp from 'amqplib';
import { loadTestcontainers } from './docker';
import { errorMessage, noop, redactUrl, type Provided } from './started';

export const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Opens and closes a real AMQP connection; returns the broker's version. */
export async function pingRabbit(url: string, timeoutMs = 5_000): Promise<string> {
  const connection = await amqp.connect(url, { timeout: timeoutMs });
  try {
    const properties = connection.connection.serverProperties;
    return `${properties.product ?? 'broker'} ${properties.version ?? ''}`.trim();
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function startRabbitContainer(): Promise<Provided> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const container = await new GenericContainer('rabbitmq:3-management')
    .withExposedPorts(5672)
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .start();
  return {
    url: `amqp://guest:guest@${container.getHost()}:${container.getMappedPort(5672)}`,
    label: 'Testcontainers rabbitmq:3-management',
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * RabbitMQ for the test run, in the order DESIGN.md gives: AMQP_URL →
 * Testcontainers (only when a Docker engine answers) → a broker on
 * 127.0.0.1:5672 with the default guest account.
 */
export async function provideRabbit(dockerEndpoint: string | undefined, notes: string[]): Promise<Provided> {
  const fromEnv = process.env.AMQP_URL;
  if (fromEnv) {
    try {
      const version = await pingRabbit(fromEnv);
      return { url: fromEnv, label: `AMQP_URL ${redactUrl(fromEnv)} (${version})`, stop: noop };
    } catch (error) {
      throw new Error(
        `AMQP_URL is set to ${redactUrl(fromEnv)} but no broker answers there: ${errorMessage(error)}. ` +
          'Start that broker, or unset AMQP_URL to let the tests find one.',
      );
    }
  }

  if (dockerEndpoint) {
    try {
      const provided = await startRabbitContainer();
      const version = await pingRabbit(provided.url);
      return { ...provided, label: `${provided.label} (${version})` };
    } catch (error) {
      notes.push(`Testcontainers rabbitmq failed: ${errorMessage(error)}`);
    }
  }

  try {
    const version = await pingRabbit(LOCAL_AMQP_URL);
    return {
      url: LOCAL_AMQP_URL,
      label: `local broker ${redactUrl(LOCAL_AMQP_URL)} (${version})`,
      stop: noop,
    };
  } catch (error) {
    throw new Error(
      `No RabbitMQ for the tests: nothing answers AMQP at ${redactUrl(LOCAL_AMQP_URL)} (${errorMessage(error)})` +
        (notes.length ? `; earlier: ${notes.join('; ')}` : '') +
        '. Fix one of: set AMQP_URL to a running broker; start a Docker engine; ' +
        'or run RabbitMQ locally (Debian: apt-get install rabbitmq-server && service rabbitmq-server start).',
    );
  }
}
