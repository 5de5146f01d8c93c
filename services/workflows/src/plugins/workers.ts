import { type HttpApp } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { type Poller } from '../runs/domain/poller';
import { startWorkflowEventsConsumer } from './workflow-events';

/**
 * The service's background work: the events consumer and the timer poller
 * start once the app is ready; on close, stop consuming, stop the poller
 * (its pass in flight finishes), then wait for runs a trigger started.
 */
export function runWorkers(app: HttpApp, ctx: ServiceContext, poller: Poller): void {
  let consumer: ReturnType<typeof startWorkflowEventsConsumer> | undefined;
  app.addHook('onReady', async () => {
    consumer = startWorkflowEventsConsumer(ctx);
    poller.start();
  });
  app.addHook('onClose', async () => {
    await consumer?.stop(ctx.settings.drainTimeoutMs);
    await poller.stop();
    await ctx.background.drain(ctx.settings.drainTimeoutMs);
  });
}
