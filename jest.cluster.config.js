// `npm run test:cluster`: tests against a real control plane (harness/controlplane.ts) started once for the run.
import base from './jest.config.js';
import './scripts/kubectl-path.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  globalSetup: '<rootDir>/test/cluster/global-setup.js',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.js',
  testTimeout: 180000,
  maxWorkers: 1,
  testPathIgnorePatterns: ['/node_modules/'],
};
