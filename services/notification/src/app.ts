import { createHttpApp, type HttpApp, type Logger } from '@herald/runtime';

export interface Deps {
  logger: Logger;
}

/** Builds the notification service without listening, so tests drive it with `inject`. */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const app = await createHttpApp({
    service: 'notification',
    description:
      'Notifications API: create, inbox, read state, delivery status, templates, provider webhooks',
    logger: deps.logger,
    trustProxy: true,
  });
  return app;
}
