import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/clip/safetensors.js';

const ALL = Uint16Array.from({ length: 65536 }, (_, i) => i);
const hex = (n: number) => `0x${n.toString(16)}`;

/** float32 values with exactly these bit patterns. */
function fromBits(...bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}
function bitsOf(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}
const isHalfNaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

for (const [label, decode, encode, isNaNBits] of [
  ['F16', f16ToF32, f32ToF16, isHalfNaN],
  ['BF16', bf16ToF32, f32ToBf16, isBf16NaN],
] as const) {
  test(`${label}: decoding then re-encoding every one of the 65536 bit patterns is bit-identical`, () => {
    const decoded = decode(ALL);
    const again = encode(decoded);
    let nans = 0;
    for (let h = 0; h < 65536; h++) {
      if (isNaNBits(h)) {
        nans++;
        assert.ok(Number.isNaN(decoded[h]), `${hex(h)} decodes to NaN`);
        assert.ok(isNaNBits(again[h]!), `${hex(h)} re-encodes to a NaN, got ${hex(again[h]!)}`);
      } else {
        assert.equal(again[h], h, `${hex(h)} -> ${decoded[h]} -> ${hex(again[h]!)}`);
      }
    }
    assert.equal(nans, label === 'F16' ? 2 * 1023 : 2 * 127, 'every NaN pattern went through the NaN branch');
  });
}

test('F16 decoding: known values, subnormals, infinities, NaN, signed zero', () => {
  const got = f16ToF32(
    Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x3555, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x0000]),
  );
  assert.deepEqual(Array.from(got.slice(0, 9)), [
    1,
    -2,
    65504,
    2 ** -14,
    2 ** -24,
    1023 * 2 ** -24,
    Math.fround(0.333251953125),
    Infinity,
    -Infinity,
  ]);
  assert.ok(Number.isNaN(got[9]));
  assert.ok(Object.is(got[10], -0) && Object.is(got[11], 0));
});

test('F16 encoding: overflow, underflow, ties to even, NaN with a low payload', () => {
  const cases: Array<[number, number]> = [
    [65504, 0x7bff],
    [65519, 0x7bff], // below the midpoint to "65536"
    [65520, 0x7c00], // the midpoint: ties to even, and the even neighbour is infinity
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [2 ** -25, 0x0000], // half the smallest subnormal: ties to even (zero)
    [3 * 2 ** -25, 0x0002], // between subnormals 1 and 2: ties to even (2)
    [2 ** -24, 0x0001],
    [1e-10, 0x0000],
    [-1e-10, 0x8000],
    [1 + 2 ** -11, 0x3c00], // tie between 1 and the next half: even is 1
    [1 + 3 * 2 ** -11, 0x3c02],
    [0.1, 0x2e66],
  ];
  const got = f32ToF16(Float32Array.from(cases.map(([v]) => v)));
  cases.forEach(([v, want], i) => assert.equal(got[i], want, `${v} -> ${hex(got[i]!)}, expected ${hex(want)}`));
  const nan = f32ToF16(fromBits(0x7f800001, 0xffc00000, 0x7f800000));
  assert.ok(isHalfNaN(nan[0]!) && isHalfNaN(nan[1]!), 'NaNs stay NaN');
  assert.equal(nan[1]! & 0x8000, 0x8000, 'NaN keeps its sign');
  assert.equal(nan[2], 0x7c00, 'infinity stays infinity');
});

test('F16 encoding rounds every midpoint between neighbouring halves to even, and just off it to the nearer one', () => {
  // Every midpoint between two adjacent halves is exact in float32 (11 vs 24 significant bits).
  for (let h = 0; h < 0x7c00; h++) {
    const lo = f16ToF32(Uint16Array.of(h))[0]!;
    const hi = h === 0x7bff ? 65536 : f16ToF32(Uint16Array.of(h + 1))[0]!;
    const mid = bitsOf(Float32Array.of((lo + hi) / 2))[0]!;
    const even = h % 2 === 0 ? h : h + 1;
    const got = f32ToF16(fromBits(mid, mid - 1, mid + 1, (mid | 0x80000000) >>> 0));
    assert.equal(got[0], even, `midpoint above ${hex(h)}`);
    assert.equal(got[1], h, `just below the midpoint above ${hex(h)}`);
    assert.equal(got[2], h + 1, `just above the midpoint above ${hex(h)}`);
    assert.equal(got[3], even | 0x8000, `negative midpoint above ${hex(h)}`);
  }
});

test('BF16 encoding rounds to nearest even on the upper 16 bits; overflow to infinity; NaN stays NaN', () => {
  for (let h = 0; h < 0x7f80; h++) {
    const mid = ((h << 16) | 0x8000) >>> 0;
    const even = h % 2 === 0 ? h : h + 1;
    const got = f32ToBf16(fromBits(mid, mid - 1, mid + 1, (mid | 0x80000000) >>> 0));
    assert.deepEqual(Array.from(got), [even, h, h + 1, even | 0x8000], `around ${hex(h)}`);
  }
  assert.deepEqual(
    Array.from(f32ToBf16(Float32Array.of(1, -2, 3.4028234663852886e38, -Infinity))),
    [0x3f80, 0xc000, 0x7f80, 0xff80],
  );
  const nan = f32ToBf16(fromBits(0x7f800001, 0xffc00000));
  assert.ok(isBf16NaN(nan[0]!) && isBf16NaN(nan[1]!), `NaN stays NaN: ${hex(nan[0]!)}, ${hex(nan[1]!)}`);
});

test('BF16 decoding is the upper half of the float32 bits', () => {
  const got = bitsOf(bf16ToF32(Uint16Array.from([0x3f80, 0xffff, 0x0001])));
  assert.deepEqual(Array.from(got), [0x3f800000, 0xffff0000, 0x00010000]);
});
