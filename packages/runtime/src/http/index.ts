// @herald/runtime/http: the Fastify app, its problem+json errors, health, metrics and authentication.
export * from './app';
export * from './problem';
export * from './metrics';
export * from './health';
export * from './authenticate';
export * from './api-keys';
export * from '../jwt';
