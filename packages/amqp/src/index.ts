export * from './client';
export * from './consumer';
export * from './failure';
export * from './queue-consumer';
export * from './raw-consumer';
export * from './topology';
