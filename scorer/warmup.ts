import { allocate } from './http/tensor.js';
import type { Model, Tensor } from './model.js';

/**
 * One prediction on a row of zeros for every input (dynamic dimensions set to 1), so that a model which
 * loads but cannot run never reports ready, and the first real request does not pay for lazy initialisation.
 */
export async function warmUp(model: Model): Promise<void> {
  const inputs: Tensor[] = model.inputs.map((spec) => {
    const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((a, b) => a * b, 1);
    const data = spec.datatype === 'BYTES' ? new Array<string>(count).fill('') : allocate(spec.datatype, count);
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
  const outputs = await model.predict(inputs);
  if (outputs.length === 0) throw new Error('the model returned no outputs');
}
