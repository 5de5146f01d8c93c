export * from './client';
export * from './consumer';
export * from './failure';
export * from './topology';
