// Layers written for speed on the wasm backend, which hands only plain (non-transposed,
// non-batched) 2-D matmuls to XNNPACK and runs the rest in a scalar loop: dense layers keep their
// input 2-D and their gradients are written out with explicit transposes. Attention is batched
// (its matmuls are small) but also uses explicit transposes in both directions.
import * as tf from '@tensorflow/tfjs';

type T = tf.Tensor;
// Fixed-length tuple so destructuring is typed (unused slots are never read).
type Body = (inputs: [T, T, T], save: tf.GradSaveFunc) => { value: T; gradFunc: (dy: T, saved: T[]) => T[] };

/** tf.customGrad with the inputs as an array (its own typing does not fit fixed arities). */
function custom(body: Body): (...xs: T[]) => T {
  const f = (...args: (T | tf.GradSaveFunc)[]) => {
    const r = body(args.slice(0, -1) as [T, T, T], args[args.length - 1] as tf.GradSaveFunc);
    // Each backward step frees its own temporaries (transposed weights, products) at once; left to
    // the outer tidy they pile up over the whole model: about 0.6 GB more for ViT-B/32, which then
    // no longer fits the wasm backend's 4 GB heap.
    return { value: r.value, gradFunc: (dy: T, saved: T[]) => tf.tidy(() => r.gradFunc(dy, saved)) };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...xs: T[]) => T;
}

/**
 * 2-D transpose. wasm's 2-D transpose slows down 3-8x when the row count is a multiple of 256
 * (cache conflicts on power-of-two strides, e.g. the text tower's 64 x 16 = 1024 rows); the same
 * permutation done as a rank-3 transpose of [2, rows / 2, cols] does not.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [r, c] = x.shape;
  if (r % 256 !== 0) return tf.transpose(x);
  return tf.reshape(tf.transpose(tf.reshape(x, [2, r / 2, c]), [2, 0, 1]), [c, r]);
}

/** Column sums of [n, m] as ones[1, n] @ x: a plain matmul is far faster than Sum on wasm. */
function columnSums(x: tf.Tensor2D): T {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]);
}

/** y = x W (+ b), x [n, in], W [in, out]. */
export const dense2d = custom(([x, w, b], save) => {
  save([x, w]);
  // The fused kernel adds the bias inside XNNPACK's GEMM on wasm (no separate pass).
  const value = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b });
  return {
    value,
    gradFunc: (dy: T, saved: T[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, transpose2d(ws)),
        tf.matMul(transpose2d(xs), dy as tf.Tensor2D),
        columnSums(dy as tf.Tensor2D),
      ];
    },
  };
}) as (x: T, w: T, b: T) => tf.Tensor2D;

/** y = x W without bias. */
export const matmul2d = custom(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: T, saved: T[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, transpose2d(ws)), tf.matMul(transpose2d(xs), dy as tf.Tensor2D)];
    },
  };
}) as (x: T, w: T) => tf.Tensor2D;

/**
 * Scaled dot-product attention on q, k, v [bh, t, d] with an additive mask [t, t] (zeros, or
 * -1e9 above the diagonal for causal attention). Gradient written by hand (softmax backward).
 */
export function attention(q: T, k: T, v: T, mask: T | null, scale: number): tf.Tensor3D {
  const f = custom(([qi, ki, vi], save) => {
    let s = tf.mul(tf.matMul(qi as tf.Tensor3D, tf.transpose(ki, [0, 2, 1]) as tf.Tensor3D), scale);
    if (mask) s = tf.add(s, mask);
    const p = tf.softmax(s);
    save([qi, ki, vi, p]);
    return {
      value: tf.matMul(p as tf.Tensor3D, vi as tf.Tensor3D),
      gradFunc: (dy: T, saved: T[]) => {
        const [qs, ks, vs, ps] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dv = tf.matMul(tf.transpose(ps, [0, 2, 1]) as tf.Tensor3D, dy as tf.Tensor3D);
        const dp = tf.matMul(dy as tf.Tensor3D, tf.transpose(vs, [0, 2, 1]) as tf.Tensor3D);
        const ds = tf.mul(tf.mul(ps, tf.sub(dp, tf.sum(tf.mul(dp, ps), -1, true))), scale) as tf.Tensor3D;
        const dq = tf.matMul(ds, ks);
        const dk = tf.matMul(tf.transpose(ds, [0, 2, 1]) as tf.Tensor3D, qs);
        return [dq, dk, dv];
      },
    };
  });
  return f(q, k, v) as tf.Tensor3D;
}

/** Exact (erf) GELU, as torch.nn.GELU, with its derivative written out. */
export const gelu = custom(([x], save) => {
  const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: T, saved: T[]) => {
      const [xs, c] = saved as [T, T];
      const pdf = tf.mul(Math.sqrt(0.5 / Math.PI), tf.exp(tf.mul(-0.5, tf.square(xs))));
      return [tf.mul(dy, tf.add(c, tf.mul(xs, pdf)))];
    },
  };
}) as (x: T) => T;

/** QuickGELU x * sigmoid(1.702 x), the activation OpenAI's CLIP weights were trained with. */
export const quickGelu = custom(([x], save) => {
  const sig = tf.sigmoid(tf.mul(x, 1.702));
  save([x, sig]);
  return {
    value: tf.mul(x, sig),
    gradFunc: (dy: T, saved: T[]) => {
      const [xs, s] = saved as [T, T];
      // d/dx x*s(ax) = s + a*x*s*(1-s)
      return [tf.mul(dy, tf.add(s, tf.mul(tf.mul(tf.mul(xs, 1.702), s), tf.sub(1, s))))];
    },
  };
}) as (x: T) => T;

/** LayerNorm over the last axis of x [n, w] (eps 1e-5 as torch), gradient written out. */
export const layerNorm = custom(([x, g, b], save) => {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-5));
  const xhat = tf.mul(xc, rstd);
  save([xhat, rstd, g]);
  return {
    value: tf.add(tf.mul(xhat, g), b),
    gradFunc: (dy: T, saved: T[]) => {
      const [xh, rs, gs] = saved as [T, T, T];
      const dxhat = tf.mul(dy, gs);
      // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      const dx = tf.mul(
        rs,
        tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))),
      );
      const [n, c] = [dy.size / gs.size, gs.size];
      return [dx, columnSums(tf.reshape(tf.mul(dy, xh), [n, c])), columnSums(tf.reshape(dy, [n, c]))];
    },
  };
}) as (x: T, g: T, b: T) => T;

/**
 * Row lookup table[idx] as a matmul with a constant selection matrix (one-hot [n, rows]): the
 * gradient is selT @ dy, a plain 2-D matmul; wasm lacks the UnsortedSegmentSum that tf.gather's
 * gradient needs. `selT` is the transposed selection [rows, n], built once per batch.
 */
export function selectRows(table: T, sel: tf.Tensor2D, selT: tf.Tensor2D): tf.Tensor2D {
  const f = custom(([t], save) => {
    void save;
    return {
      value: tf.matMul(sel, t as tf.Tensor2D),
      gradFunc: (dy: T) => [tf.matMul(selT, dy as tf.Tensor2D)],
    };
  });
  return f(table) as tf.Tensor2D;
}

/**
 * Token lookup. On wasm both directions are done in JS on the (CPU-resident) data: its Gather is
 * about 6x slower than a row copy, and it lacks the UnsortedSegmentSum that the gradient needs
 * (a scatter-add is far cheaper than a one-hot matmul over the vocabulary).
 */
export function embedTokens(table: T, ids: tf.Tensor1D, idsJs: Int32Array): tf.Tensor2D {
  const rows = table.shape[0]!;
  const f = custom(([t], save) => {
    void save;
    return {
      value: tf.getBackend() === 'wasm' ? gatherRows(t as tf.Tensor2D, idsJs) : tf.gather(t, ids),
      gradFunc: (dy: T) => {
        if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return [tf.unsortedSegmentSum(dy, ids, rows)];
        const w = dy.shape[1]!;
        const src = dy.dataSync();
        const out = new Float32Array(rows * w);
        for (let i = 0; i < idsJs.length; i++) {
          const o = idsJs[i]! * w;
          const s = i * w;
          for (let k = 0; k < w; k++) out[o + k]! += src[s + k]!;
        }
        return [tf.tensor2d(out, [rows, w])];
      },
    };
  });
  return f(table) as tf.Tensor2D;
}

function gatherRows(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const w = table.shape[1];
  const src = table.dataSync();
  const out = new Float32Array(ids.length * w);
  for (let i = 0; i < ids.length; i++) out.set(src.subarray(ids[i]! * w, ids[i]! * w + w), i * w);
  return tf.tensor2d(out, [ids.length, w]);
}

/** One-hot selection matrices [n, rows] and its transpose, built in JS (no gradient). */
export function selection(indices: ArrayLike<number>, rows: number): { sel: tf.Tensor2D; selT: tf.Tensor2D } {
  const n = indices.length;
  const a = new Float32Array(n * rows);
  const b = new Float32Array(rows * n);
  for (let i = 0; i < n; i++) {
    const r = indices[i]!;
    a[i * rows + r] = 1;
    b[r * n + i] = 1;
  }
  return { sel: tf.tensor2d(a, [n, rows]), selT: tf.tensor2d(b, [rows, n]) };
}
