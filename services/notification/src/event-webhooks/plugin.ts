import { type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { EventWebhookDispatcher } from './domain/dispatcher';

/**
 * The outgoing webhooks' dispatcher: starts polling once the app is ready,
 * and on close stops taking deliveries and lets the attempts in flight end
 * (bounded by the delivery timeout). What a close cuts short is retried
 * when its lease runs out.
 */
export function runEventWebhookDispatcher(app: HttpApp, ctx: ServiceContext): EventWebhookDispatcher {
  const dispatcher = new EventWebhookDispatcher({
    endpoints: ctx.models.eventWebhookEndpoints,
    deliveries: ctx.models.eventWebhookDeliveries,
    settings: ctx.settings.eventWebhooks,
    resolveHost: ctx.resolveHost,
    log: ctx.log.child({ component: 'event-webhooks' }),
    now: ctx.now,
  });
  app.addHook('onReady', async () => dispatcher.start());
  app.addHook('onClose', async () => dispatcher.stop());
  return dispatcher;
}
