/**
 * A UBJSON decoder (Universal Binary JSON, ubjson.org draft 12) for XGBoost's `.ubj` models: the value it returns is
 * what JSON.parse returns for the same model saved as `.json`.
 *
 * XGBoost (src/common/json.cc, UBJWriter) writes objects with int64-length keys, counted arrays (`[#L n`), typed
 * counted arrays of float32, uint8, int32 and int64 (`[$d#L n` then n big-endian values with no markers), strings,
 * integers in the smallest of i/I/l/L, float32 numbers (`d`), T/F and Z. Everything else of the format (N no-op,
 * U, C, D, H, uncounted containers, typed objects) is decoded too, so that a file written by another UBJSON writer
 * also loads. Every read is bounds-checked: a truncated or corrupt file throws an Error naming the byte where it went
 * wrong.
 */

/** Containers nest at most this deep (XGBoost's models nest 7 deep); deeper means a corrupt file. */
const MAX_DEPTH = 64;

const NAMES: Record<string, string> = {
  i: 'int8',
  U: 'uint8',
  I: 'int16',
  l: 'int32',
  L: 'int64',
  d: 'float32',
  D: 'float64',
  C: 'char',
  S: 'string',
  H: 'high-precision number',
};

/** Bytes each fixed-size value of a typed container takes, by marker. */
const SIZES: Record<string, number> = { i: 1, U: 1, I: 2, l: 4, L: 8, d: 4, D: 8, C: 1, T: 0, F: 0, Z: 0 };

class Reader {
  private pos = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly text = new TextDecoder('utf-8', { fatal: true });

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decode(): unknown {
    const value = this.value(this.marker('a value'), 0);
    if (this.pos !== this.bytes.length) {
      throw new Error(`UBJSON: ${this.bytes.length - this.pos} bytes after the end of the value, at byte ${this.pos}`);
    }
    return value;
  }

  private need(n: number, what: string): number {
    const at = this.pos;
    if (at + n > this.bytes.length) {
      throw new Error(
        `UBJSON is truncated: ${what} at byte ${at} needs ${n} bytes, the file ends at ${this.bytes.length}`,
      );
    }
    this.pos += n;
    return at;
  }

  /** The next marker, no-ops (`N`) skipped. */
  private marker(what: string): string {
    let m: string;
    do m = String.fromCharCode(this.view.getUint8(this.need(1, what)));
    while (m === 'N');
    return m;
  }

  private value(m: string, depth: number): unknown {
    switch (m) {
      case 'Z':
        return null;
      case 'T':
        return true;
      case 'F':
        return false;
      case '[':
        return this.array(depth + 1);
      case '{':
        return this.object(depth + 1);
      case 'S':
        return this.string('a string');
      case 'H': {
        const digits = this.string('a high-precision number');
        const n = Number(digits);
        if (digits.trim() === '' || Number.isNaN(n)) {
          throw new Error(`UBJSON: high-precision number ${JSON.stringify(digits)} is not a number`);
        }
        return n;
      }
      default:
        return this.scalar(m);
    }
  }

  /** A value of a fixed-size type, its marker already read. */
  private scalar(m: string): unknown {
    const size = SIZES[m];
    if (size === undefined) {
      const at = this.pos - 1;
      throw new Error(`UBJSON: unknown marker ${JSON.stringify(m)} (0x${m.charCodeAt(0).toString(16)}) at byte ${at}`);
    }
    if (size === 0) return m === 'Z' ? null : m === 'T';
    const at = this.need(size, `an ${NAMES[m]}`);
    const v = this.view;
    switch (m) {
      case 'i':
        return v.getInt8(at);
      case 'U':
        return v.getUint8(at);
      case 'I':
        return v.getInt16(at);
      case 'l':
        return v.getInt32(at);
      case 'L': {
        const big = v.getBigInt64(at);
        if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new Error(`UBJSON: int64 ${big} at byte ${at} is beyond what a number holds exactly`);
        }
        return Number(big);
      }
      case 'd':
        return v.getFloat32(at);
      case 'D':
        return v.getFloat64(at);
      default:
        return String.fromCharCode(v.getUint8(at));
    }
  }

  /** A length or count: an integer of any integer type, not negative. */
  private length(what: string): number {
    const at = this.pos;
    const m = this.marker(what);
    if (!'iUIlL'.includes(m)) {
      throw new Error(`UBJSON: ${what} at byte ${at} has marker ${JSON.stringify(m)}; expected an integer`);
    }
    const n = this.scalar(m) as number;
    if (n < 0) throw new Error(`UBJSON: ${what} at byte ${at} is negative (${n})`);
    return n;
  }

  private string(what: string): string {
    const n = this.length(`the length of ${what}`);
    const at = this.need(n, what);
    try {
      return this.text.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new Error(`UBJSON: ${what} at byte ${at} is not UTF-8`);
    }
  }

  /** A container's optional `$type` and `#count`. */
  private header(kind: string, depth: number): { type?: string; count?: number } {
    if (depth > MAX_DEPTH) throw new Error(`UBJSON: containers nest deeper than ${MAX_DEPTH} at byte ${this.pos}`);
    let type: string | undefined;
    if (this.peek() === '$') {
      this.pos++;
      type = this.marker(`the type of ${kind}`);
      // T, F and Z hold no bytes, so a count of them would allocate from nothing but the count; XGBoost writes none.
      if (type === 'T' || type === 'F' || type === 'Z') {
        throw new Error(`UBJSON: ${kind} typed ${JSON.stringify(type)} at byte ${this.pos - 1} is not supported`);
      }
      if (this.peek() !== '#') throw new Error(`UBJSON: typed ${kind} at byte ${this.pos} has no count ("#")`);
    }
    if (this.peek() !== '#') return { type };
    this.pos++;
    const count = this.length(`the count of ${kind}`);
    // Every element takes at least a byte (a marker, or its value in a typed container): a count beyond the bytes
    // left is a corrupt file, not an allocation to attempt.
    const each = type === undefined ? 1 : (SIZES[type] ?? 1);
    if (count * each > this.bytes.length - this.pos) {
      throw new Error(
        `UBJSON is truncated: ${kind} at byte ${this.pos} counts ${count} elements, more than the ${this.bytes.length - this.pos} bytes left`,
      );
    }
    return { type, count };
  }

  private peek(): string | undefined {
    return this.pos < this.bytes.length ? String.fromCharCode(this.view.getUint8(this.pos)) : undefined;
  }

  private array(depth: number): unknown[] {
    const { type, count } = this.header('an array', depth);
    const out: unknown[] = [];
    if (count === undefined) {
      for (let m = this.marker('an array element or "]"'); m !== ']'; m = this.marker('an array element or "]"')) {
        out.push(this.value(m, depth));
      }
      return out;
    }
    out.length = count;
    for (let i = 0; i < count; i++) {
      out[i] = type === undefined ? this.value(this.marker('an array element'), depth) : this.value(type, depth);
    }
    return out;
  }

  private object(depth: number): Record<string, unknown> {
    const { type, count } = this.header('an object', depth);
    const out: Record<string, unknown> = {};
    const entry = (): void => {
      const key = this.string('a key');
      const value =
        type === undefined ? this.value(this.marker(`the value of "${key}"`), depth) : this.value(type, depth);
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    };
    if (count !== undefined) {
      for (let i = 0; i < count; i++) entry();
      return out;
    }
    while (this.peekMarker() !== '}') entry();
    this.pos++;
    return out;
  }

  /** The next marker without consuming it, no-ops skipped. */
  private peekMarker(): string {
    while (this.peek() === 'N') this.pos++;
    const m = this.peek();
    if (m === undefined) {
      throw new Error(`UBJSON is truncated: an object at byte ${this.pos} has no "}", the file ends there`);
    }
    return m;
  }
}

/** Decodes one UBJSON value, the whole of `bytes`; throws an Error saying where the file is malformed. */
export function decodeUBJSON(bytes: Uint8Array): unknown {
  return new Reader(bytes).decode();
}
