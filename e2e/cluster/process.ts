/** Processes the harness starts, detached, logging to a file; stopped by PID only. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  return child;
}

export async function stopProcess(pid: number | undefined, timeoutMs = 10_000): Promise<void> {
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
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

/** The last lines of a process's log, for an error saying why it did not come up. */
export function logTail(file: string, lines = 20): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}
