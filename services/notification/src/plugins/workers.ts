import { type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { type Relay } from '../outbox/domain/relay';
import { startNotificationEventsConsumer } from './notification-events';

/**
 * The service's background work: the events consumer and the relay start
 * once the app is ready (routes and collections exist), and on close stop
 * consuming, then the relay, then wait for work requests started. Hooks on
 * the app itself, before `server.ts` adds the one closing the connections.
 */
export function runWorkers(app: HttpApp, ctx: ServiceContext, relay: Relay): void {
  let consumer: ReturnType<typeof startNotificationEventsConsumer> | undefined;
  app.addHook('onReady', async () => {
    consumer = startNotificationEventsConsumer(ctx);
    relay.start();
  });
  app.addHook('onClose', async () => {
    await consumer?.stop(ctx.settings.drainTimeoutMs);
    await relay.stop();
    await ctx.background.drain(ctx.settings.drainTimeoutMs);
  });
}
