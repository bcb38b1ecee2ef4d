/**
 * Prometheus' `promtool check metrics` on a scraped /metrics text. promtool is built from its Go module by
 * scripts/build-promtool.sh (minutes, so the unit suite runs without it unless REQUIRE_PROMTOOL=1, as CI sets).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where scripts/build-promtool.sh caches the binary, for the version it pins. */
function cachedPromtool(): string {
  const script = readFileSync(join(ROOT, 'scripts/build-promtool.sh'), 'utf8');
  const version = /PROMTOOL_VERSION:-(v[^}]+)\}/.exec(script)?.[1];
  if (!version)
    throw new Error('scripts/build-promtool.sh no longer pins PROMTOOL_VERSION as ${PROMTOOL_VERSION:-v...}');
  const cache = process.env.SCORING_CACHE || join(homedir(), '.cache/scoring-operator');
  return join(cache, 'bin', `promtool-${version}`);
}

/** $PROMTOOL, else the cached build; undefined when there is none. */
export function findPromtool(): string | undefined {
  const path = process.env.PROMTOOL || cachedPromtool();
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * `it` with promtool's path. Without promtool the test is skipped, saying so (and how to build it); with
 * REQUIRE_PROMTOOL=1 it fails instead.
 */
export function itWithPromtool(name: string, fn: (promtool: string) => Promise<void>, timeoutMs?: number): void {
  const promtool = findPromtool();
  if (promtool) {
    it(name, () => fn(promtool), timeoutMs);
  } else if (process.env.REQUIRE_PROMTOOL === '1') {
    it(name, () => {
      throw new Error(
        `REQUIRE_PROMTOOL=1 but promtool is not at ${process.env.PROMTOOL || cachedPromtool()}: ` +
          'run bash scripts/build-promtool.sh (or set PROMTOOL)',
      );
    });
  } else {
    process.stderr.write(`skipped "${name}": promtool not built (bash scripts/build-promtool.sh, or set PROMTOOL)\n`);
    it.skip(`${name} (skipped: promtool not built; bash scripts/build-promtool.sh)`, () => undefined);
  }
}

/** promtool's verdict on `text`: its exit status and what it printed (nothing for metrics without a problem). */
export function checkMetrics(promtool: string, text: string): { status: number | null; output: string } {
  const run = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}
