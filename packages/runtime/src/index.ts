export * from './core';
// TRANSITION: removed once services import the subpaths
export * from './http';
// TRANSITION: removed once services import the subpaths
export * from './mongo';
