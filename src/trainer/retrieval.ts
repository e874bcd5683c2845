// Retrieval metrics and the contrastive loss computed from a similarity matrix, in plain JS:
// evaluation runs them on the full validation set, independent of the training batch size.

export interface RankStats {
  'R@1': number;
  'R@5': number;
  'R@10': number;
  mean_rank: number;
  median_rank: number;
}

function stats(ranks: Int32Array): RankStats {
  const n = ranks.length;
  const sorted = Array.from(ranks).sort((a, b) => a - b);
  const at = (k: number) => ranks.reduce((c, r) => c + (r <= k ? 1 : 0), 0) / n;
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    'R@1': at(1),
    'R@5': at(5),
    'R@10': at(10),
    mean_rank: sorted.reduce((a, b) => a + b, 0) / n,
    median_rank: median,
  };
}

/**
 * `sim` is row-major [n, n]: sim[i*n + j] = similarity of image i and caption j; pair i matches
 * caption i. Rank is 1 + the number of candidates scoring strictly higher than the match.
 */
export function retrieval(sim: Float32Array, n: number): { i2t: RankStats; t2i: RankStats } {
  const i2t = new Int32Array(n);
  const t2i = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = sim[i * n + i]!;
    // A non-finite match (a diverged model) ranks last, rather than first by failed comparisons.
    if (!Number.isFinite(d)) {
      i2t[i] = n;
      t2i[i] = n;
      continue;
    }
    let ri = 1;
    let rt = 1;
    for (let j = 0; j < n; j++) {
      if (sim[i * n + j]! > d) ri++;
      if (sim[j * n + i]! > d) rt++;
    }
    i2t[i] = ri;
    t2i[i] = rt;
  }
  return { i2t: stats(i2t), t2i: stats(t2i) };
}

/**
 * Mean symmetric contrastive loss over consecutive blocks of `batch` pairs (a trailing partial
 * block is dropped unless it is the only one), logits = scale * sim.
 */
export function blockContrastiveLoss(sim: Float32Array, n: number, scale: number, batch: number): number {
  const b = Math.min(batch, n);
  const blocks = Math.max(1, Math.floor(n / b));
  let total = 0;
  const row = new Float64Array(b);
  for (let k = 0; k < blocks; k++) {
    const o = k * b;
    let li = 0;
    let lt = 0;
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < b; j++) row[j] = scale * sim[(o + i) * n + o + j]!;
      li += logSumExp(row) - row[i]!;
      for (let j = 0; j < b; j++) row[j] = scale * sim[(o + j) * n + o + i]!;
      lt += logSumExp(row) - row[i]!;
    }
    total += (li / b + lt / b) / 2;
  }
  return total / blocks;
}

function logSumExp(xs: Float64Array): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}
