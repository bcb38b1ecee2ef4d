/**
 * How many workers a scorer runs when WORKERS is unset: the container's CPU quota (cgroup v2's cpu.max, else v1's
 * cpu.cfs_quota_us over cpu.cfs_period_us) rounded up, at least 1 and at most the cores Node may use. Without a
 * quota, 1: a pod with no CPU limit on a large node would otherwise load the model once per core of the node.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file's text, or undefined when it cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPU quota in cores (fractional), or undefined for none. */
export function cpuQuota(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length >= 1) {
    if (v2[0] === 'max') return undefined;
    const quota = Number(v2[0]);
    const period = Number(v2[1] ?? 100_000);
    if (quota > 0 && period > 0) return quota / period;
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim());
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim());
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/** WORKERS' default: the quota rounded up, within [1, cores]. */
export function defaultWorkers(read: ReadText = readText, cores = availableParallelism()): number {
  const quota = cpuQuota(read);
  if (quota === undefined) return 1;
  return Math.max(1, Math.min(cores, Math.ceil(quota)));
}
