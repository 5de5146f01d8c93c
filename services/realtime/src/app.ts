import { createHttpApp, type HttpApp, type Logger } from '@herald/runtime';

export interface Deps {
  logger: Logger;
}

/** Builds the realtime service without listening, so tests drive it with `inject`. */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const app = await createHttpApp({
    service: 'realtime',
    description: 'Socket.IO: pushes new notifications and status changes to the sockets of each user',
    logger: deps.logger,
    trustProxy: true,
  });
  return app;
}
