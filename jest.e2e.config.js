// `npm run test:e2e`: the end-to-end suite against the cluster KUBECONFIG names (the local node cluster, kind, any).
import base from './jest.config.js';
import './scripts/kubectl-path.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ['<rootDir>/test/e2e'],
  testTimeout: 600000,
  maxWorkers: 1,
  testPathIgnorePatterns: ['/node_modules/'],
};
