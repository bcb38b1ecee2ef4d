/**
 * helm, for the chart's tests. helm is built from its Go module by scripts/build-helm.sh (minutes, so the unit suite
 * runs without it unless REQUIRE_HELM=1, as CI sets).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where scripts/build-helm.sh caches the binary, for the version it pins. */
function cachedHelm(): string {
  const script = readFileSync(join(ROOT, 'scripts/build-helm.sh'), 'utf8');
  const version = /HELM_VERSION:-(v[^}]+)\}/.exec(script)?.[1];
  if (!version) throw new Error('scripts/build-helm.sh no longer pins HELM_VERSION as ${HELM_VERSION:-v...}');
  const cache = process.env.SCORING_CACHE || join(homedir(), '.cache/scoring-operator');
  return join(cache, 'bin', `helm-${version}`);
}

/** $HELM, else the cached build; undefined when there is none. */
export function findHelm(): string | undefined {
  const path = process.env.HELM || cachedHelm();
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * `describe` whose tests get helm's path. Without helm they are skipped, saying so (and how to build it); with
 * REQUIRE_HELM=1 they fail instead.
 */
export function describeWithHelm(name: string, fn: (helm: () => string) => void): void {
  const helm = findHelm();
  if (helm) {
    describe(name, () => fn(() => helm));
  } else if (process.env.REQUIRE_HELM === '1') {
    describe(name, () =>
      fn(() => {
        throw new Error(
          `REQUIRE_HELM=1 but helm is not at ${process.env.HELM || cachedHelm()}: ` +
            'run bash scripts/build-helm.sh (or set HELM)',
        );
      }),
    );
  } else {
    process.stderr.write(`skipped "${name}": helm not built (bash scripts/build-helm.sh, or set HELM)\n`);
    describe.skip(`${name} (skipped: helm not built; bash scripts/build-helm.sh)`, () => fn(() => ''));
  }
}

/**
 * helm's isolated environment: its cache, config and data directories under `home`, so that a test reads no
 * user's repositories or plugins and writes nothing outside it.
 */
export function helmEnv(home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
}

/** Runs helm (for at most `timeoutMs`); its exit status and output. */
export function runHelm(
  helm: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(helm, args, { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
