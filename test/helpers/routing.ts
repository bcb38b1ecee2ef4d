// The tests' routing endpoint is the one bench:rollout uses too (harness/routing.ts).
export { startRoutingServer, type RoutingServer } from '../../harness/routing.js';
