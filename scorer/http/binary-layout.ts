/**
 * The binary tensor data extension for infer requests (Triton's `binary_tensor_data`, which KServe also speaks):
 * https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 * With `Inference-Header-Content-Length: N`, the body's first N bytes are the JSON request; each input carrying
 * `"parameters": {"binary_data_size": B}` has no "data" and takes the next B bytes, in the order the inputs are listed,
 * as raw little-endian values of its datatype. It spares fast models the JSON parse, which costs them as much as the
 * prediction. Outputs come back the same way when asked for (`"parameters": {"binary_data_output": true}` on the request,
 * or `{"binary_data": true}` on an output): the response's first N bytes are its JSON, each such output has
 * `"parameters": {"binary_data_size": B}` instead of "data", and its bytes follow in output order. With
 * `Inference-Header-Content-Length: 0` (a raw binary request) the whole body is the one input's bytes and every output
 * comes back as binary data.
 *
 * This module holds the layout both directions share; binary-request.ts reads requests, binary-response.ts writes
 * outputs.
 */
import { endianness } from 'node:os';
import type { Datatype, NumericArray } from '../model.js';

export const HEADER_LENGTH = 'inference-header-content-length';

/** The datatypes the extension carries as fixed-width values (BYTES is length-prefixed strings). */
export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

/** Bytes per value of each fixed-width datatype (BOOL one byte, FP16 two). */
export const ELEMENT_SIZE: Record<FixedDatatype, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Whether a typed array's bytes already are the extension's little-endian values. */
export const LITTLE_ENDIAN = endianness() === 'LE';

type ArrayOf = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => NumericArray;

/** Datatypes carried as the typed array their bytes already are (FP16 is carried as float32, BOOL is checked). */
export const VIEWS: Partial<Record<Datatype, ArrayOf>> = {
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
};
