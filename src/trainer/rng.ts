// Deterministic random numbers. Every stream is derived from (seed, purpose, index...) rather
// than carried along, so a resumed run draws exactly what the uninterrupted run would have drawn
// without having to save generator state.
import { mulberry32 } from '../random/mulberry32.js';

/** Mixes 32-bit integers into one (murmur3-style finaliser). */
export function hashInts(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

/** mulberry32 over a hash of the keys: small, fast, good enough for shuffling, init and augmentation. */
export function makeRng(...keys: number[]): Rng {
  const next = mulberry32(hashInts(...keys));
  let spare: number | undefined;
  return {
    next,
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor(next() * n),
  };
}

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Purposes, so that streams for different uses never coincide. */
export const Stream = { init: 1, epoch: 2, caption: 3, augment: 4, dropout: 5, trainEval: 6 } as const;
