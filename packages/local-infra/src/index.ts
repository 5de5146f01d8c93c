/**
 * What Herald runs locally besides its services: the embedded MongoDB of
 * `pnpm start` and the benchmarks, free ports, and child-process helpers.
 * Tooling, not product code: no service imports it; @herald/test-support
 * builds the tests' infrastructure on it, never the other way round.
 */
export {
  JVM_FLAGS,
  MONGO_SERVER_DIR,
  MONGO_SERVER_TARGET,
  resolveClasspath,
  startMongoJavaServer,
  type EmbeddedMongo,
  type JvmProfile,
  type MongoJavaServerOptions,
} from './mongo-java-server';
export { freePort, freePortRange, isPortFree, type PortRangeOptions } from './ports';
export { exitedEarly, stopProcess, waitUntilReady, type WaitUntilReadyOptions } from './processes';
