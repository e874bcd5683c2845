// IEEE half (F16) and bfloat16 (BF16) <-> float32, exact to the bit.
// Everything works on the float32 *bit patterns* (Uint32Array views), never on JS numbers: a
// float32 NaN read into a JS number may come back with another payload, and the round trip
// F16/BF16 -> F32 -> F16/BF16 must be bit-identical for all 65536 patterns, NaNs included.

let f16Table: Uint32Array | undefined;

/** float32 bits of every half bit pattern (256 KiB, built once on first use). */
function f16ToF32Table(): Uint32Array {
  if (f16Table) return f16Table;
  const table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = halfBitsToFloatBits(h);
  f16Table = table;
  return table;
}

function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // Inf, or NaN keeping its payload
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // 112 = 127 - 15
  if (mant === 0) return sign >>> 0;
  // Subnormal half: normalise so the leading 1 becomes the implicit bit of a normal float32.
  let e = 113; // biased float32 exponent of 2^-14, the exponent of half subnormals
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** Rounds float32 bits to half bits, round-to-nearest-even; overflow gives infinity. */
function floatBitsToHalfBits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00;
    const payload = mant >>> 13;
    return sign | 0x7c00 | (payload === 0 ? 0x200 : payload); // a NaN whose payload is all in the low bits stays NaN
  }
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    let half = ((e + 15) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    // A carry out of the mantissa bumps the exponent, up to infinity (0x7c00): that is the right answer.
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
    return sign | half;
  }
  if (e < -25) return sign; // below half the smallest subnormal (2^-25): rounds to zero
  // Subnormal result in units of 2^-24: the 24-bit significand shifted right by -(e + 1) (14..24).
  const significand = mant | 0x800000;
  const shift = -(e + 1);
  let q = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (q & 1) === 1)) q++; // may reach 0x400, the smallest normal: correct
  return sign | q;
}

function floatBits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

export function f16ToF32(x: Uint16Array): Float32Array {
  const table = f16ToF32Table();
  const out = new Float32Array(x.length);
  const bits = floatBits(out);
  for (let i = 0; i < x.length; i++) bits[i] = table[x[i]!]!;
  return out;
}

export function f32ToF16(x: Float32Array): Uint16Array {
  const bits = floatBits(x);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < bits.length; i++) out[i] = floatBitsToHalfBits(bits[i]!);
  return out;
}

export function bf16ToF32(x: Uint16Array): Float32Array {
  const out = new Float32Array(x.length);
  const bits = floatBits(out);
  for (let i = 0; i < x.length; i++) bits[i] = x[i]! << 16;
  return out;
}

export function f32ToBf16(x: Float32Array): Uint16Array {
  const bits = floatBits(x);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) {
      // NaN: keep sign and upper payload; set the quiet bit only if truncation would leave Inf.
      const hi = b >>> 16;
      out[i] = (hi & 0x7f) === 0 ? hi | 0x40 : hi;
    } else {
      // Round to nearest even on the dropped 16 bits; finite max rounds up to Inf as IEEE says.
      out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}
