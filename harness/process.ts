/**
 * Processes the harness starts, detached, logging to a file; stopped by PID only, and only while that PID is still
 * the process the harness started: each is recorded with its identity (the boot it started in and its start time,
 * field 22 of /proc/PID/stat, which exec does not change), so a stale record (after a reboot or a crash) never makes
 * the harness signal whatever process holds that PID now.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { waitFor } from './wait.js';

/** A process the harness started. */
export interface Recorded {
  pid: number;
  /** `<boot id>/<start time in clock ticks since boot>`. */
  start: string;
}

const bootId = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
})();

/** The identity of whatever process holds `pid` now, or undefined when none does. */
export function identity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which is in parentheses and may hold spaces): state is field 3, start time 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${bootId}/${fields[19]}`;
  } catch {
    return undefined;
  }
}

export function startProcess(bin: string, args: string[], logFile: string): Recorded {
  const out = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.on('error', () => {
    // reported below (no PID) or by the caller's readiness check
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${bin} (see ${logFile})`);
  const start = identity(child.pid);
  if (start === undefined) throw new Error(`${bin} (PID ${child.pid}) vanished at once: see ${logFile}`);
  return { pid: child.pid, start };
}

/** The recorded process is still running (its PID alive and held by the same process). */
export function running(p: Recorded | undefined): boolean {
  return !!p && alive(p.pid) && identity(p.pid) === p.start;
}

function signal(p: Recorded, sig: NodeJS.Signals): void {
  if (!running(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // exited meanwhile
  }
}

/** Says so when a recorded PID is now held by another process (and leaves that process alone). */
function checkRecorded(p: Recorded | undefined, name: string): p is Recorded {
  if (!p) return false;
  if (typeof p !== 'object' || typeof p.pid !== 'number' || typeof p.start !== 'string') {
    console.error(`${name}: recorded without its identity (${JSON.stringify(p)}); not signalled`);
    return false;
  }
  if (alive(p.pid) && identity(p.pid) !== p.start) {
    console.error(`${name}: PID ${p.pid} is now another process (${comm(p.pid)}); not signalled`);
  }
  return running(p);
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(pause, 0, 0, ms);
}

/**
 * Stops processes the harness recorded: SIGTERM to all, SIGKILL to those still running after `timeoutMs`.
 * Synchronous, so that it also works from a signal handler of a process about to exit.
 */
export function stopProcessesSync(
  procs: Record<string, Recorded | undefined>,
  names = Object.keys(procs),
  timeoutMs = 10_000,
): void {
  for (const name of names) {
    const p = procs[name];
    if (!checkRecorded(p, name)) continue;
    signal(p, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (running(p) && Date.now() < deadline) sleepSync(50);
    signal(p, 'SIGKILL');
    while (running(p)) sleepSync(20);
  }
}

export async function stopProcess(p: Recorded | undefined, timeoutMs = 10_000, name = 'process'): Promise<void> {
  if (!checkRecorded(p, name)) return;
  signal(p, 'SIGTERM');
  const exited = () => !running(p);
  // Past the grace period: SIGKILL, which ends any process (the wait for it only outlasts a stuck kernel).
  if (!(await waitFor(`${name} to exit`, exited, timeoutMs, 50).catch(() => false))) {
    signal(p, 'SIGKILL');
    await waitFor(`${name} to exit after SIGKILL`, exited, 60_000, 20);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie child (exited, not yet reaped) still answers signal 0; /proc says whether it runs.
    return !/\bState:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const cleanups: (() => void)[] = [];
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
function onSignal(sig: NodeJS.Signals): void {
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  console.error(`\n${sig}: stopping what the harness started`);
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch (err) {
      console.error(err);
    }
  }
  // Then what the signal would have done (or whatever else listens for it).
  process.kill(process.pid, sig);
}

/**
 * Runs `cleanup` (synchronously; the latest registered first) when this process gets SIGINT, SIGTERM or SIGHUP,
 * then lets the signal take its course. Returns the function that unregisters it.
 */
export function onTermination(cleanup: () => void): () => void {
  if (cleanups.length === 0) for (const s of SIGNALS) process.on(s, onSignal);
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i >= 0) cleanups.splice(i, 1);
    if (cleanups.length === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}

/** The last lines of a process's log, for an error saying why it did not come up. */
export function logTail(file: string, lines = 20): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

/** For a failed wait's `.catch`: the same error, with the last lines of the log of the process it waited on. */
export function withLogTail(file: string): (err: unknown) => never {
  return (err) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; log tail:\n${logTail(file)}`, { cause: err });
  };
}

/** Stops a child this process spawned: SIGTERM, then SIGKILL after `timeoutMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await gone;
  clearTimeout(timer);
}
