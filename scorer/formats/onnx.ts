/**
 * ONNX models through onnxruntime-node: how scikit-learn (skl2onnx), Keras/TF (tf2onnx) and PyTorch (torch.onnx)
 * models arrive. Inputs and outputs, with their datatypes and shapes, come from the model's own metadata.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { Datatype, Model, ModelFactory, Tensor, TensorSpec } from '../model.js';

const DATATYPE_OF: Partial<Record<OrtTensor.Type, Datatype>> = {
  float32: 'FP32',
  float64: 'FP64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};

const ORT_TYPE_OF = Object.fromEntries(Object.entries(DATATYPE_OF).map(([k, v]) => [v, k])) as Record<
  Datatype,
  OrtTensor.Type
>;

function specOf(meta: InferenceSession.ValueMetadata, role: 'input' | 'output'): TensorSpec {
  if (!meta.isTensor) {
    const hint =
      role === 'output'
        ? ' (a ZipMap or another sequence/map output: export the model without it, e.g. skl2onnx ' +
          "options={id(model): {'zipmap': False}})"
        : '';
    throw new Error(`${role} "${meta.name}" is not a tensor${hint}`);
  }
  const datatype = DATATYPE_OF[meta.type];
  if (!datatype) throw new Error(`${role} "${meta.name}" has element type ${meta.type}, which is not supported`);
  // Symbolic ("batch_size", "N") and unknown dimensions are dynamic.
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

export const createOnnxModel: ModelFactory = async (bytes, { name, output }) => {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      // Requests are small and many: one thread per session keeps latency flat and leaves cores to the HTTP side.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // onnxruntime logs its warnings and errors on stderr itself, in colour, ahead of the one line the scorer writes
      // for a model that fails; every error reaches that line (or the request's answer) through the rejection anyway.
      logSeverityLevel: 4,
    });
  } catch (err) {
    throw new Error((err as Error).message.split('\n')[0]);
  }
  try {
    const inputs = session.inputMetadata.map((m) => specOf(m, 'input'));
    const outputs = session.outputMetadata.map((m) => specOf(m, 'output'));
    if (outputs.length === 0) throw new Error('the model has no outputs');
    if (output !== undefined && !outputs.some((o) => o.name === output)) {
      throw new Error(
        `MODEL_OUTPUT names "${output}"; the model's outputs are ${outputs.map((o) => o.name).join(', ')}`,
      );
    }
    const allOutputs = outputs.map((o) => o.name);

    const model: Model = {
      name,
      format: 'onnx',
      inputs,
      outputs,
      primaryOutput: output ?? outputs[0]!.name,
      async predict(tensors: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
        const feeds: Record<string, OrtTensor> = {};
        for (const t of tensors) feeds[t.name] = new OrtTensor(ORT_TYPE_OF[t.datatype], t.data, t.shape);
        const fetches = outputNames ?? allOutputs;
        const results = await session.run(feeds, fetches as string[]);
        return fetches.map((fetched) => {
          const r = results[fetched]!;
          const datatype = DATATYPE_OF[r.type];
          if (!datatype) throw new Error(`output "${fetched}" came back as ${r.type}`);
          return { name: fetched, datatype, shape: [...r.dims], data: r.data as Tensor['data'] };
        });
      },
      async dispose() {
        await session.release();
      },
    };
    return model;
  } catch (err) {
    await session.release();
    throw err;
  }
};
