import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import { closeMongo, createHttpApp, isMongoReady, type HttpApp, type Logger } from '@herald/runtime';
import { type WorkerSettings } from './config';
import { startDeliveryConsumers } from './consumers/delivery-consumers';
import { DeliveryRecords } from './data/delivery-records';
import { deliveryModel } from './data/delivery-model';
import { DeliveryService } from './domain/deliver';
import { createDeliveryMetrics } from './domain/metrics';
import { StatusPublisher } from './domain/status-publisher';
import { TokenBucket } from './domain/token-bucket';
import { type Providers } from './providers/provider';

export interface Deps {
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  providers: Providers;
  settings: WorkerSettings;
  /** server.ts: the app closes AMQP and MongoDB after draining; tests close their own */
  ownsConnections?: boolean;
}

/**
 * Builds the worker without listening: health, readiness (MongoDB and the
 * broker), metrics, and the delivery consumers, which start once the app is
 * ready and drain when it closes.
 */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const app = await createHttpApp({
    service: 'delivery-worker',
    description:
      'Consumes delivery jobs and sends email (Mailgun) and SMS (Twilio) with retries and dead letters',
    logger: deps.logger,
    trustProxy: true,
    readiness: {
      mongo: () => isMongoReady(deps.mongo),
      broker: () => deps.amqp.isConnected(),
    },
  });

  const { settings } = deps;
  const records = new DeliveryRecords(deliveryModel(deps.mongo));
  const service = new DeliveryService({
    records,
    providers: deps.providers,
    limiters: {
      email: new TokenBucket(settings.rates.email.perSecond, settings.rates.email.burst),
      sms: new TokenBucket(settings.rates.sms.perSecond, settings.rates.sms.burst),
    },
    statuses: new StatusPublisher(deps.amqp),
    metrics: createDeliveryMetrics(app.metrics),
    leaseMs: settings.leaseMs,
  });

  let consumers: ReturnType<typeof startDeliveryConsumers> = [];
  app.addHook('onReady', async () => {
    await records.ensureIndexes();
    consumers = startDeliveryConsumers(deps.amqp, service, settings.prefetch);
    deps.logger.info(
      {
        providers: { email: deps.providers.email.name, sms: deps.providers.sms.name },
        prefetch: settings.prefetch,
      },
      'delivery consumers started',
    );
  });

  app.addHook('onClose', async () => {
    // Stop taking jobs, let in-flight sends finish within the bound; the rest go back to the queue.
    // A consumer still setting up its channel is stopped safely too (Consumer.stop waits for it).
    await Promise.all(consumers.map((consumer) => consumer.stop(settings.drainTimeoutMs)));
    if (deps.ownsConnections) {
      await deps.amqp.close(settings.drainTimeoutMs);
      await closeMongo(deps.mongo);
    }
  });

  return app;
}
