/**
 * scripts/quickstart.sh's arguments: a wrong one is refused at once, before any cluster is made or image built (the
 * script exits before its first step: nothing else runs in these tests).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/quickstart.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'quickstart-args-'));
writeFileSync(join(dir, 'weights.bin'), 'x');

const quickstart = (args: string[]) => {
  const run = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, INIT_CWD: dir },
  });
  return { status: run.status, stderr: run.stderr };
};

describe('npm run quickstart -- ARGS', () => {
  it.each([
    [['--replicas', '2'], 'usage: npm run quickstart [-- --model PATH'],
    [['--model'], 'usage: npm run quickstart'],
    [['--name', 'churn'], 'usage: npm run quickstart'],
    [['--model', 'nothing.onnx'], `quickstart: --model ${dir}/nothing.onnx: no such file`],
    [['--model=weights.bin'], 'the name does not say its format; give --format onnx, xgboost or lightgbm'],
  ])('refuses %j with exit 2: %s', (args, message) => {
    const run = quickstart(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
