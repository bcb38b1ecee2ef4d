/**
 * kstatus verdicts from the real library (sigs.k8s.io/cli-utils/pkg/kstatus/status: the rules Flux, kpt and cli-utils
 * appliers wait on), through e2e/kstatus, which scripts/build-kstatus.sh builds and caches.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KstatusVerdict {
  /** Current, InProgress, Failed, Terminating, ... */
  status: string;
  message: string;
}

/** $KSTATUS, else where scripts/build-kstatus.sh caches the build of the cli-utils version e2e/kstatus/go.mod pins. */
export function kstatusBinary(): string {
  if (process.env.KSTATUS) return process.env.KSTATUS;
  const goMod = readFileSync(fileURLToPath(new URL('../../e2e/kstatus/go.mod', import.meta.url)), 'utf8');
  const version = /^\s*sigs\.k8s\.io\/cli-utils (\S+)/m.exec(goMod)?.[1];
  if (!version) throw new Error('e2e/kstatus/go.mod has no requirement on sigs.k8s.io/cli-utils');
  const cache = process.env.SCORING_CACHE ?? join(homedir(), '.cache/scoring-operator');
  return join(cache, 'bin', `kstatus-${version}`);
}

/** The kstatus verdict of one object, as `kubectl get -o json` prints it (status included). */
export function kstatus(object: object): KstatusVerdict {
  const bin = kstatusBinary();
  if (!existsSync(bin)) {
    throw new Error(
      process.env.KSTATUS
        ? `no kstatus binary at ${bin} ($KSTATUS): scripts/build-kstatus.sh builds one and prints its path`
        : `no kstatus binary at ${bin}: run scripts/build-kstatus.sh, which builds it there`,
    );
  }
  const run = spawnSync(bin, { input: JSON.stringify(object), encoding: 'utf8' });
  if (run.error) throw new Error(`${bin} could not run: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`${bin} failed (exit ${run.status}): ${run.stderr.trim()}`);
  const lines = run.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`${bin} gave ${lines.length} verdicts for one object: ${run.stdout}`);
  return JSON.parse(lines[0]!) as KstatusVerdict;
}
