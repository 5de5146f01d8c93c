import { createHttpApp, type HttpApp, type Logger } from '@herald/runtime';

export interface Deps {
  logger: Logger;
}

/** Builds the delivery-worker service without listening, so tests drive it with `inject`. */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const app = await createHttpApp({
    service: 'delivery-worker',
    description:
      'Consumes delivery jobs and sends email (Mailgun) and SMS (Twilio) with retries and dead letters',
    logger: deps.logger,
    trustProxy: true,
  });
  return app;
}
