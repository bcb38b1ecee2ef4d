/** The worker thread of thread.ts: builds the model from its bytes and answers predictions until disposed. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelFormat } from '../../contract/formats.js';
import type { Model, ModelOptions, Tensor } from '../model.js';
import { MODEL_FACTORIES } from './index.js';
import { movable, type ThreadReply, type ThreadRequest } from './thread.js';

const port = parentPort!;
const { format, bytes, options } = workerData as { format: ModelFormat; bytes: Uint8Array; options: ModelOptions };
const reply = (m: ThreadReply, buffers: ArrayBuffer[] = []) => port.postMessage(m, buffers);

async function serve(model: Model): Promise<void> {
  const { name, inputs, outputs, primaryOutput } = model;
  reply({ kind: 'ready', model: { name, format: model.format, inputs, outputs, primaryOutput } });
  port.on('message', (m: ThreadRequest) => {
    if (m.kind === 'dispose') {
      void model.dispose().finally(() => port.close());
      return;
    }
    // A synchronous model's throw becomes the promise's rejection.
    new Promise<Tensor[]>((resolve) => resolve(model.predict(m.inputs, m.outputNames))).then(
      (result) => {
        const { tensors, buffers } = movable(result);
        reply({ kind: 'outputs', id: m.id, outputs: tensors }, buffers);
      },
      (err: unknown) => reply({ kind: 'error', id: m.id, message: message(err) }),
    );
  });
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

// A model that fails to build is answered, not thrown: the thread then ends on its own.
await MODEL_FACTORIES[format](bytes, options).then(serve, (err: unknown) => {
  reply({ kind: 'failed', message: message(err) });
  port.close();
});
