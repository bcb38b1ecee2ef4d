// Puts first on PATH a kubectl within the supported skew of the pinned Kubernetes release (scripts/build-k8s.sh
// --kubectl: the machine's when it is within one minor version, else built from the pinned module), for the jest
// suites' kubectl calls and the scripts they run; imported by jest.cluster.config.js and jest.e2e.config.js.
import { spawnSync } from 'node:child_process';
import { URL, fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./build-k8s.sh', import.meta.url));
const run = spawnSync('bash', [script, '--kubectl'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (run.status !== 0) throw new Error(`scripts/build-k8s.sh --kubectl failed (exit ${run.status})`);
const dir = run.stdout.trim().split('\n').pop();
if (!(process.env.PATH ?? '').split(':').includes(dir)) process.env.PATH = `${dir}:${process.env.PATH ?? ''}`;
