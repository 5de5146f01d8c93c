export * from './target-guard';
export * from './guarded-lookup';
