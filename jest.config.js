// ESM throughout: @kubernetes/client-node 2.x is published as ES modules only, and Jest's own module
// registry cannot require() an ES module the way Node 24 can. So the project is "type": "module",
// Jest runs under --experimental-vm-modules, and ts-jest transpiles each file (type checking is
// `npm run typecheck`, once for the whole tree, which is faster than per-file checking).
/** @type {import('jest').Config} */
export default {
  testEnvironment: '<rootDir>/test/environment.js',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/e2e/'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
};
