// CLIP's image preprocessing geometry, computed as Pillow computes it: the shorter side resized to
// `size` with bicubic resampling (a = -0.5, the kernel widened when shrinking, so it also
// anti-aliases), horizontal pass then vertical pass, each rounded to 8 bits as Pillow's fixed-point
// code does, then a centre crop with torchvision's offsets. Written here rather than done by sharp:
// libvips places its samples differently when enlarging (about half a pixel off Pillow's) and its
// "cover" crop-then-resize differs when shrinking, and a model trained on Pillow's pixels sees the
// difference.

/** Pillow's bicubic kernel (a = -0.5). */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

// Pillow's fixed-point precision for 8-bit images.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

interface Taps {
  /** First input index of each output. */
  start: Int32Array;
  /** Number of taps of each output. */
  count: Int32Array;
  /** Fixed-point weights, `width` per output. */
  weights: Int32Array;
  width: number;
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * width);
  const w = new Float64Array(width);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let total = 0;
    for (let x = 0; x < hi - lo; x++) {
      w[x] = bicubic((x + lo - centre + 0.5) / filterScale);
      total += w[x]!;
    }
    for (let x = 0; x < hi - lo; x++) {
      const v = total !== 0 ? w[x]! / total : 0;
      // Pillow rounds half away from zero when converting to fixed point.
      weights[i * width + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, width };
}

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);

/** Python's round(): halves to even (torchvision's crop offsets use it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Resamples RGB rows: [h, inW, 3] -> [h, outW, 3]. */
function horizontal(src: Uint8Array, h: number, inW: number, outW: number): Uint8Array {
  if (inW === outW) return src;
  const t = taps(inW, outW);
  const out = new Uint8Array(h * outW * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const s = t.start[x]!;
      const n = t.count[x]!;
      const k = x * t.width;
      for (let c = 0; c < 3; c++) {
        let acc = 1 << (PRECISION_BITS - 1);
        for (let j = 0; j < n; j++) acc += src[(y * inW + s + j) * 3 + c]! * t.weights[k + j]!;
        out[(y * outW + x) * 3 + c] = clip8(Math.floor(acc / ONE));
      }
    }
  }
  return out;
}

/** Resamples RGB columns: [inH, w, 3] -> [outH, w, 3]. */
function vertical(src: Uint8Array, w: number, inH: number, outH: number): Uint8Array {
  if (inH === outH) return src;
  const t = taps(inH, outH);
  const out = new Uint8Array(outH * w * 3);
  for (let y = 0; y < outH; y++) {
    const s = t.start[y]!;
    const n = t.count[y]!;
    const k = y * t.width;
    for (let i = 0; i < w * 3; i++) {
      let acc = 1 << (PRECISION_BITS - 1);
      for (let j = 0; j < n; j++) acc += src[(s + j) * w * 3 + i]! * t.weights[k + j]!;
      out[y * w * 3 + i] = clip8(Math.floor(acc / ONE));
    }
  }
  return out;
}

/**
 * RGB pixels [h, w, 3] -> [size, size, 3]: the shorter side to `size` (the longer one to
 * trunc(size * long / short), as torchvision's Resize), then the centre `size` x `size` crop.
 */
export function resizeShortSideAndCrop(src: Uint8Array, w: number, h: number, size: number): Uint8Array {
  const [w2, h2] = w <= h ? [size, Math.trunc((size * h) / w)] : [Math.trunc((size * w) / h), size];
  const resized = vertical(horizontal(src, h, w, w2), w2, h, h2);
  const left = roundHalfEven((w2 - size) / 2);
  const top = roundHalfEven((h2 - size) / 2);
  if (left === 0 && top === 0 && w2 === size && h2 === size) return resized;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    out.set(resized.subarray(((top + y) * w2 + left) * 3, ((top + y) * w2 + left + size) * 3), y * size * 3);
  return out;
}
