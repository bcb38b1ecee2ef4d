/**
 * A model on a thread of its own (PREDICT_THREAD): predictions run on a worker thread, so that the HTTP side of one
 * request (reading, parsing, validating, answering) overlaps the prediction of another, and a long batch never
 * holds up the event loop (health probes, metrics). It pays off for models whose predictions cost more than the
 * hand-off: each request's tensors cross the threads as copies (moved, not cloned) and two messages.
 */
import { Worker } from 'node:worker_threads';
import type { ModelFormat } from '../../contract/formats.js';
import type { Model, ModelOptions, NumericArray, Tensor } from '../model.js';

/** Under ts-jest the sources run as TypeScript, which a worker cannot load: it runs the build (`npm run test:unit` makes it). */
const ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/scorer/formats/thread-entry.js' : './thread-entry.js',
  import.meta.url,
);

export type ModelSpec = Pick<Model, 'name' | 'format' | 'inputs' | 'outputs' | 'primaryOutput'>;

/** What the worker sends. */
export type ThreadReply =
  | { kind: 'ready'; model: ModelSpec }
  | { kind: 'failed'; message: string }
  | { kind: 'outputs'; id: number; outputs: Tensor[] }
  | { kind: 'error'; id: number; message: string };

/** What the worker is sent. */
export type ThreadRequest =
  { kind: 'predict'; id: number; inputs: Tensor[]; outputNames?: readonly string[] } | { kind: 'dispose' };

/**
 * The tensors with copies of their arrays, each owning its buffer, and those buffers, to move to the other thread.
 * (Posting an array that views part of a larger buffer, a request body's, would clone all of that buffer.)
 */
export function movable(tensors: readonly Tensor[]): { tensors: Tensor[]; buffers: ArrayBuffer[] } {
  const buffers: ArrayBuffer[] = [];
  const copies = tensors.map((t) => {
    if (Array.isArray(t.data)) return t;
    const data = (t.data as NumericArray).slice();
    buffers.push(data.buffer as ArrayBuffer);
    return { ...t, data };
  });
  return { tensors: copies, buffers };
}

/**
 * Builds the model on a new worker thread. A model that fails to build rejects with its factory's own message.
 * `onFailure` hears of the thread stopping on its own (it crashed): every prediction from then on rejects.
 */
export async function createThreadModel(
  format: ModelFormat,
  bytes: Uint8Array,
  options: ModelOptions,
  onFailure: (err: Error) => void,
): Promise<Model> {
  const worker = new Worker(ENTRY, { workerData: { format, bytes, options } });
  const spec = await new Promise<ModelSpec>((resolve, reject) => {
    const settle = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: ThreadReply) => {
      settle();
      if (m.kind === 'ready') resolve(m.model);
      else reject(new Error(m.kind === 'failed' ? m.message : `the model's thread answered "${m.kind}" while loading`));
    };
    const onError = (err: Error) => {
      settle();
      void worker.terminate();
      reject(err);
    };
    const onExit = (code: number) => {
      settle();
      reject(new Error(`the model's thread exited with code ${code} while loading`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });

  const pending = new Map<number, { resolve: (t: Tensor[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;
  let disposing = false;
  const stop = (err: Error) => {
    stopped ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (m: ThreadReply) => {
    if (m.kind !== 'outputs' && m.kind !== 'error') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.kind === 'outputs') p?.resolve(m.outputs);
    else p?.reject(new Error(m.message));
  });
  worker.on('error', (err) => {
    stop(new Error(`the model's thread failed: ${err.message}`));
    onFailure(stopped!);
  });
  worker.on('exit', (code) => {
    if (disposing || stopped) return;
    stop(new Error(`the model's thread exited with code ${code}`));
    onFailure(stopped!);
  });

  return {
    ...spec,
    predict(inputs, outputNames) {
      if (stopped) return Promise.reject(stopped);
      const id = nextId++;
      const { tensors, buffers } = movable(inputs);
      return new Promise<Tensor[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const message: ThreadRequest = { kind: 'predict', id, inputs: tensors, ...(outputNames && { outputNames }) };
        worker.postMessage(message, buffers);
      });
    },
    async dispose() {
      if (disposing || stopped) return;
      disposing = true;
      const exited = new Promise((r) => worker.once('exit', r));
      worker.postMessage({ kind: 'dispose' } satisfies ThreadRequest);
      await exited;
      stop(new Error('the model was disposed'));
    },
  };
}
