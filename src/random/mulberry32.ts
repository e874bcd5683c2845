// mulberry32: a tiny, well-mixed 32-bit generator. Written here rather than taken from a package
// because its sequence is part of clipsweep's contract: random search draws the same runs from the
// same seed forever, and a resumed training run redraws exactly what it drew before.

/** Uniform numbers in [0, 1) from a 32-bit state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
