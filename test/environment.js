// Jest runs each test file in its own V8 context, whose typed-array constructors differ from the main context's.
// Native addons (onnxruntime-node) build their arrays in the main context, and onnxruntime's own `instanceof`
// checks then fail ("A int64 tensor's data must be type of BigInt64Array"). Sharing the main context's
// constructors makes a test process behave like the real scorer process.
import { TestEnvironment } from 'jest-environment-node';

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

export default class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}
