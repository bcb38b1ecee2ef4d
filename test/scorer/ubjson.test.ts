/**
 * The UBJSON decoder on hand-built bytes: the markers XGBoost writes (test/scorer/xgboost.test.ts loads its real
 * files) and the rest of the format, which another writer may use.
 */
import { decodeUBJSON } from '../../scorer/formats/ubjson.js';

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const int64 = (n: number) => [0, 0, 0, 0, 0, 0, 0, n];

describe('decodeUBJSON', () => {
  it('reads XGBoost’s layout: int64 key lengths, counted arrays, typed arrays of float32, uint8, int32 and int64', () => {
    const value = decodeUBJSON(
      bytes(
        '{',
        ['L'.charCodeAt(0), ...int64(1)],
        'a[#L',
        int64(3),
        'SL',
        int64(2),
        'hiZT',
        ['L'.charCodeAt(0), ...int64(1)],
        'b[$d#L',
        int64(2),
        [0x3f, 0x80, 0, 0, 0xff, 0xc0, 0, 0],
        ['L'.charCodeAt(0), ...int64(1)],
        'c[$U#L',
        int64(2),
        [1, 255],
        ['L'.charCodeAt(0), ...int64(1)],
        'd[$l#L',
        int64(1),
        [0xff, 0xff, 0xff, 0xfe],
        ['L'.charCodeAt(0), ...int64(1)],
        'e[$L#L',
        int64(1),
        int64(7),
        ['L'.charCodeAt(0), ...int64(1)],
        'fi',
        [0xfb],
        '}',
      ),
    );
    expect(value).toEqual({ a: ['hi', null, true], b: [1, NaN], c: [1, 255], d: [-2], e: [7], f: -5 });
  });

  it('reads the rest of the format: no-ops, uncounted containers, short lengths, int16, float64, char, typed objects', () => {
    const value = decodeUBJSON(
      bytes(
        'N[',
        'I',
        [1, 0],
        'D',
        [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18],
        'Cx',
        'F',
        'N',
        '{$i#i',
        [1],
        'i',
        [1],
        'k',
        [9],
        ']',
      ),
    );
    expect(value).toEqual([256, Math.PI, 'x', false, { k: 9 }]);
  });

  it('refuses what follows the value, a negative length and an int64 beyond exact numbers', () => {
    expect(() => decodeUBJSON(bytes('ZZ'))).toThrow('UBJSON: 1 bytes after the end of the value, at byte 1');
    expect(() => decodeUBJSON(bytes('Si', [0xff]))).toThrow(
      'UBJSON: the length of a string at byte 1 is negative (-1)',
    );
    expect(() => decodeUBJSON(bytes('L', [0x7f, 0, 0, 0, 0, 0, 0, 0]))).toThrow(
      'UBJSON: int64 9151314442816847872 at byte 1 is beyond what a number holds exactly',
    );
  });

  it('refuses a count larger than the bytes left before allocating for it', () => {
    expect(() => decodeUBJSON(bytes('[$d#L', [0, 0, 0, 1, 0, 0, 0, 0]))).toThrow(
      'UBJSON is truncated: an array at byte 13 counts 4294967296 elements, more than the 0 bytes left',
    );
  });
});
