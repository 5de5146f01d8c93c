import { createHttpApp, type HttpApp, type Logger } from '@herald/runtime';

export interface Deps {
  logger: Logger;
}

/** Builds the auth service without listening, so tests drive it with `inject`. */
export async function buildApp(deps: Deps): Promise<HttpApp> {
  const app = await createHttpApp({
    service: 'auth',
    description:
      'Accounts, asymmetric JWT access tokens with JWKS, rotating refresh tokens, roles, email verification',
    logger: deps.logger,
    trustProxy: true,
  });
  return app;
}
