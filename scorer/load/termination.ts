import { open } from 'node:fs/promises';

/** Kubernetes reads at most this many bytes of a termination message. */
const MAX_BYTES = 4096;

/**
 * Writes `line` as the container's termination message, best effort: only into a file that already exists (the
 * kubelet creates /dev/termination-log in a container; outside one, nothing is created), never throwing.
 */
export async function writeTerminationMessage(path: string, line: string): Promise<void> {
  if (!path) return;
  let bytes = Buffer.from(`${line}\n`, 'utf8');
  if (bytes.length > MAX_BYTES) bytes = Buffer.concat([bytes.subarray(0, MAX_BYTES - 4), Buffer.from('...\n')]);
  try {
    const file = await open(path, 'r+');
    try {
      await file.truncate(0).catch(() => undefined); // character devices cannot be truncated
      await file.write(bytes, 0, bytes.length, 0);
    } finally {
      await file.close();
    }
  } catch {
    // Not in a container, or not writable: the line is on stderr already.
  }
}
