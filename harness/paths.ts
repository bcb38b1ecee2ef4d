/** Where the harness finds the repository and the Kubernetes binaries. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the nearest directory above this file with a package.json (from harness/ or from dist/harness/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The directory of binaries build-k8s.sh provides (it builds them on first use); `node`: with the node's too. */
export function binaries(node = false): string {
  const here = join(repoRoot(), 'scripts/build-k8s.sh');
  const run = spawnSync('bash', [here, ...(node ? ['--node'] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`scripts/build-k8s.sh failed (exit ${run.status})`);
  return run.stdout.trim().split('\n').pop()!;
}
