// One Jest run for the whole monorepo. Workspace packages are mapped to their
// TypeScript sources so tests never depend on a prior build.
const ESM_ONLY_DEPENDENCIES = ['content-disposition', 'cookie', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: [
    '<rootDir>/packages',
    '<rootDir>/services',
    '<rootDir>/e2e',
    '<rootDir>/scripts',
    '<rootDir>/gateway',
    '<rootDir>/apps',
  ],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
    // ESM-only dependencies: Node 20 can require() them, Jest's module runtime cannot until Node 24.9.
    '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`node_modules/(?!(\\.pnpm/)?(${ESM_ONLY_DEPENDENCIES.join('|')})[@/])`],
  moduleNameMapper: {
    '^@herald/(contracts|runtime|amqp|local-infra|test-support|fake-providers|read-models)$':
      '<rootDir>/packages/$1/src',
    '^@herald/runtime/(http|mongo|net)$': '<rootDir>/packages/runtime/src/$1',
    '^@herald/runtime/phone$': '<rootDir>/packages/runtime/src/phone',
  },
  globalSetup: '<rootDir>/packages/test-support/src/global-setup.ts',
  globalTeardown: '<rootDir>/packages/test-support/src/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 30000,
  // Integration suites hold real connections; a leak shows here instead of hanging CI.
  forceExit: false,
};
