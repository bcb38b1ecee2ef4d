/** Writing outputs as binary tensor data (the layout: binary-layout.ts), for the outputs a request asks that of. */
import type { Tensor } from '../model.js';
import { ELEMENT_SIZE, LITTLE_ENDIAN, VIEWS, type FixedDatatype } from './binary-layout.js';

/**
 * An output's values as the binary tensor data extension lays them out: raw little-endian values of its datatype
 * (BOOL one byte, FP16 two), BYTES as each string's UTF-8 length in 4 little-endian bytes followed by the string.
 */
export function tensorBytes(tensor: Tensor): Buffer {
  const { data, datatype } = tensor;
  if (Array.isArray(data)) {
    const strings = data.map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.allocUnsafe(strings.reduce((n, b) => n + 4 + b.length, 0));
    let at = 0;
    for (const b of strings) {
      out.writeUInt32LE(b.length, at);
      out.set(b, at + 4);
      at += 4 + b.length;
    }
    return out;
  }
  const View = VIEWS[datatype];
  if (LITTLE_ENDIAN && (View ? data instanceof View : datatype === 'BOOL')) {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  // FP16 (carried as float32), a big-endian host, or an array of another type than the datatype's own.
  const width = ELEMENT_SIZE[datatype as FixedDatatype];
  const out = Buffer.allocUnsafe(data.length * width);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const write = WRITE[datatype as FixedDatatype];
  for (let i = 0; i < data.length; i++) write(view, i * width, data[i]!);
  return out;
}

const WRITE: Record<FixedDatatype, (view: DataView, at: number, v: number | bigint) => void> = {
  BOOL: (d, at, v) => d.setUint8(at, v ? 1 : 0),
  UINT8: (d, at, v) => d.setUint8(at, Number(v)),
  INT8: (d, at, v) => d.setInt8(at, Number(v)),
  UINT16: (d, at, v) => d.setUint16(at, Number(v), true),
  INT16: (d, at, v) => d.setInt16(at, Number(v), true),
  FP16: (d, at, v) => d.setFloat16(at, Number(v), true),
  UINT32: (d, at, v) => d.setUint32(at, Number(v), true),
  INT32: (d, at, v) => d.setInt32(at, Number(v), true),
  FP32: (d, at, v) => d.setFloat32(at, Number(v), true),
  UINT64: (d, at, v) => d.setBigUint64(at, BigInt(v), true),
  INT64: (d, at, v) => d.setBigInt64(at, BigInt(v), true),
  FP64: (d, at, v) => d.setFloat64(at, Number(v), true),
};
