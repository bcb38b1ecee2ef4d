// The tests wait the way the harness does: one waitFor for the repository (harness/wait.ts).
export { StopWaiting, waitFor } from '../../harness/wait.js';
