import { canonicalJson } from '../../operator/canonical-json.js';

describe('canonicalJson', () => {
  it('gives the same text for objects that differ only in key order, at any depth', () => {
    const a = { b: 1, a: { d: [{ y: 2, x: 1 }], c: 'c' } };
    const b = { a: { c: 'c', d: [{ x: 1, y: 2 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"c":"c","d":[{"x":1,"y":2}]},"b":1}');
  });

  it('leaves out undefined members and keeps the order of arrays', () => {
    expect(canonicalJson({ a: undefined, b: [3, 1, 2] })).toBe('{"b":[3,1,2]}');
    expect(canonicalJson({ b: [1, 2, 3] })).not.toBe(canonicalJson({ b: [3, 2, 1] }));
  });
});
