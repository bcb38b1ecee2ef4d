import { cpuQuota, defaultWorkers, type ReadText } from '../../../scorer/workers/count.js';

/** A cgroup filesystem of these files. */
const files =
  (tree: Record<string, string>): ReadText =>
  (path) =>
    tree[path];

describe("the scorer's default number of workers", () => {
  it("is cgroup v2's cpu.max quota over its period, rounded up", () => {
    expect(cpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(defaultWorkers(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 8)).toBe(2);
    expect(defaultWorkers(files({ '/sys/fs/cgroup/cpu.max': '400000 100000\n' }), 8)).toBe(4);
  });

  it("falls back to cgroup v1's cfs quota and period", () => {
    const v1 = files({
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '250000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
    expect(defaultWorkers(v1, 8)).toBe(3);
  });

  it('is at least 1 and at most the cores Node may use', () => {
    expect(defaultWorkers(files({ '/sys/fs/cgroup/cpu.max': '10000 100000' }), 8)).toBe(1);
    expect(defaultWorkers(files({ '/sys/fs/cgroup/cpu.max': '1600000 100000' }), 2)).toBe(2);
  });

  it('is 1 without a quota, so that a pod without a CPU limit loads the model once, not once per core of its node', () => {
    expect(defaultWorkers(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }), 64)).toBe(1);
    expect(defaultWorkers(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1' }), 64)).toBe(1);
    expect(defaultWorkers(files({}), 64)).toBe(1);
  });
});
