export * from './api-keys';
export * from './topics';
