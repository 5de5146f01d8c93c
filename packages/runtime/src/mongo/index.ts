// @herald/runtime/mongo: what a service that keeps data in MongoDB needs.
export * from './connection';
export * from './driver-errors';
export * from './models';
export * from './cursor';
export * from './write-errors';
export * from './command-metrics';
