// @herald/runtime: what every process needs (core.ts); HTTP and MongoDB are
// the entry points @herald/runtime/http and @herald/runtime/mongo, so a
// service without a database never loads mongoose, nor a script fastify.
export * from './core';
