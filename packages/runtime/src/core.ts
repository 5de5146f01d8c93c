// What every process needs, and nothing that loads mongoose or fastify
// (test/entry-points.test.ts holds it to that): a worker that never serves
// HTTP, or a script, starts without either.
export * from './errors';
export * from './config';
export * from './logger';
export * from './lifecycle';
export * from './batcher';
export * from './timeout';
export * from './bounded-map';
