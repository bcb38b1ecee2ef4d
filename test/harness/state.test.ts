/** The record of the cluster `cluster:up` started: written whole, read back as written. */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState, writeState, type ClusterState } from '../../harness/state.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cluster-state-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state: ClusterState = {
  dir: '/tmp/cp-1',
  pids: { etcd: { pid: 4711, start: 'boot/123' } },
  kubeconfig: '/tmp/cp-1/kubeconfig',
  server: 'https://127.0.0.1:6443',
  node: false,
};

describe('the cluster record', () => {
  it('reads back what was written, and nothing when none was', () => {
    const file = join(dir, 'cluster.json');
    expect(readState(file)).toBeUndefined();
    writeState(state, file);
    expect(readState(file)).toEqual(state);
  });

  it('replaces an earlier record whole and leaves no file beside it', () => {
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify({ ...state, dir: '/tmp/cp-0', owner: 'someone' }));
    writeState(state, file);
    expect(readState(file)).toEqual(state);
    expect(readdirSync(dir)).toEqual(['cluster.json']);
  });

  it('replaces the record by a new file: a reader that opened the earlier one reads it whole', () => {
    const file = join(dir, 'cluster.json');
    const earlier = { ...state, dir: '/tmp/cp-0' };
    writeState(earlier, file);
    const reader = openSync(file, 'r');
    try {
      writeState(state, file);
      expect(JSON.parse(readFileSync(reader, 'utf8'))).toEqual(earlier);
    } finally {
      closeSync(reader);
    }
    expect(readState(file)).toEqual(state);
  });
});
