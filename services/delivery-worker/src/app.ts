import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import { type Logger } from '@herald/runtime';
import { createHttpApp, type HttpApp } from '@herald/runtime/http';
import { closeMongo, countMongoCommands, isMongoReady } from '@herald/runtime/mongo';
import { type WorkerSettings } from './config';
import { registerDeliveryConsumers } from './deliveries/consumers';
import { deliveryModel, prepareDeliveries } from './deliveries/data/delivery-model';
import { DeliveryRecords } from './deliveries/data/delivery-records';
import { DeliveryService } from './deliveries/domain/deliver';
import { createDeliveryMetrics } from './deliveries/domain/delivery-metrics';
import { SmsDestinations } from './deliveries/domain/sms-destinations';
import { StatusPublisher } from './deliveries/domain/status-publisher';
import { type CircuitState } from './failover/circuit-breaker';
import { ProviderChain } from './failover/provider-chain';
import { type Providers } from './providers/provider';
import { WebPushProvider } from './providers/push';
import { GoneSubscriptionPublisher } from './deliveries/domain/status-publisher';
import { systemClock, TokenBucket, type Clock } from './rate-limit/token-bucket';

export interface Deps {
  logger: Logger;
  mongo: Connection;
  amqp: AmqpClient;
  providers: Providers;
  settings: WorkerSettings;
  /** what the rate limiters wait on and the circuit breakers read; tests pass a manual clock */
  clock?: Clock;
  /** server.ts: the app closes AMQP and MongoDB after draining; tests close their own */
  ownsConnections?: boolean;
}

/**
 * Builds the worker without listening: health, readiness (MongoDB and the
 * broker), metrics, and the delivery consumers, which start once the app is
 * ready and drain when it closes.
 */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const { settings, logger } = deps;
  const deliveries = deliveryModel(deps.mongo);
  // The collection and its unique index exist before the first job is claimed.
  await prepareDeliveries(deliveries);

  const app = await createHttpApp({
    service: 'delivery-worker',
    description:
      'Consumes delivery jobs and sends email (Mailgun, SMTP, SendGrid), SMS (Twilio) and Web Push through provider chains with circuit breakers, retries and dead letters',
    logger,
    trustProxy: settings.trustedProxies ?? 'loopback',
    readiness: {
      mongo: () => isMongoReady(deps.mongo),
      broker: () => deps.amqp.isConnected(),
    },
  });
  // commands by collection in /metrics when MONGO_URL asks the driver to report them (monitorCommands=true)
  countMongoCommands(deps.mongo, app.metrics);
  if (deps.ownsConnections) {
    // onClose hooks run in reverse order of registration: added first, this runs after the
    // consumers below have drained.
    app.addHook('onClose', async () => {
      await deps.amqp.close(settings.drainTimeoutMs);
      await closeMongo(deps.mongo);
    });
  }

  const clock = deps.clock ?? systemClock;
  const onCircuitChange = (channel: string) => (provider: string, state: CircuitState) =>
    logger[state === 'closed' ? 'info' : 'warn'](
      { channel, provider, circuit: state },
      `${provider} circuit ${state}`,
    );
  const chains = {
    email: new ProviderChain(
      'email',
      deps.providers.email,
      settings.breakers,
      clock,
      onCircuitChange('email'),
    ),
    sms: new ProviderChain('sms', deps.providers.sms, settings.breakers, clock, onCircuitChange('sms')),
    push: new ProviderChain('push', deps.providers.push, settings.breakers, clock, onCircuitChange('push')),
  };
  // a push service's 404/410 becomes push.subscription_gone, for the notification service to delete it
  const goneSubscriptions = new GoneSubscriptionPublisher(deps.amqp);
  for (const provider of deps.providers.push) {
    if (provider instanceof WebPushProvider) {
      provider.reportGoneTo((gone, { notificationId }) =>
        goneSubscriptions.publish(gone, `push-gone-${notificationId}`),
      );
    }
  }
  const circuits = () =>
    [chains.email, chains.sms, chains.push].flatMap((chain) =>
      chain.links.map((link) => ({
        channel: chain.channel,
        provider: link.provider.name,
        state: link.breaker.state,
      })),
    );
  const service = new DeliveryService({
    records: new DeliveryRecords(deliveries),
    chains,
    limiters: {
      email: new TokenBucket(settings.rates.email.perSecond, settings.rates.email.burst, clock),
      sms: new TokenBucket(settings.rates.sms.perSecond, settings.rates.sms.burst, clock),
      push: new TokenBucket(settings.rates.push.perSecond, settings.rates.push.burst, clock),
    },
    smsDestinations: new SmsDestinations(settings.smsAllowList),
    statuses: new StatusPublisher(deps.amqp),
    metrics: createDeliveryMetrics(app.metrics, circuits),
    leaseMs: settings.leaseMs,
    lookupDelayMs: settings.lookupDelayMs,
  });
  registerDeliveryConsumers(app, deps.amqp, service, {
    prefetch: settings.prefetch,
    drainTimeoutMs: settings.drainTimeoutMs,
  });
  app.addHook('onReady', async () => {
    logger.info(
      {
        providers: { email: chains.email.names, sms: chains.sms.names, push: chains.push.names },
        prefetch: settings.prefetch,
      },
      'delivery consumers started',
    );
  });

  return app;
}
