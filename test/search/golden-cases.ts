// Fixed proposal cases whose every number is recorded in test/fixtures/tpe-golden.json (written by
// `node dist/bench/search/golden.js` from the sampler before its speed-ups): the candidates drawn
// from l(x), their scores log l(x) - log g(x) to the last bit, and the proposal, so that a faster
// implementation is proven to compute the same thing.
import { ParzenEstimator } from '../../src/search/parzen.js';
import type { Dimension, Space } from '../../src/search/space.js';
import { decode, sampleUniform } from '../../src/search/space.js';
import { DEFAULT_TPE, propose, splitColumns, splitTrials, type TpeSettings, type Trial } from '../../src/search/tpe.js';
import { mulberry32 as rng } from '../../src/random/mulberry32.js';

export interface GoldenCase {
  name: string;
  space: Space;
  trials: Trial[];
  pending: Record<string, unknown>[];
  settings: TpeSettings;
  seed: number;
}

export interface GoldenResult {
  name: string;
  /** Per parameter group: the candidates drawn from l(x) and their scores. */
  groups: { candidates: number[][]; scores: number[] }[];
  params: Record<string, unknown>;
}

const unit = (name: string): Dimension => ({ kind: 'numeric', name, low: 0, high: 1, log: false, int: false });
const MIXED: Space = [
  { kind: 'numeric', name: 'lr', low: 1e-5, high: 3e-3, log: true, int: false },
  { kind: 'categorical', name: 'batch_size', choices: [16, 32, 64], keys: ['16', '32', '64'] },
  { kind: 'numeric', name: 'warmup', low: 0, high: 60, log: false, int: true },
  { kind: 'numeric', name: 'layers', low: 1, high: 64, log: true, int: true },
  { kind: 'numeric', name: 'wd', low: -1, high: 1, log: false, int: false },
];

/** `pruneEvery` k > 0 prunes every k-th trial; -k prunes all but every k-th. */
function history(space: Space, n: number, seed: number, pruneEvery: number, ties: boolean): Trial[] {
  const next = rng(seed);
  const trials: Trial[] = [];
  for (let i = 0; i < n; i++) {
    const params = Object.fromEntries(space.map((d) => [d.name, decode(d, sampleUniform(d, next))]));
    if (ties && i % 3 === 1) Object.assign(params, trials[i - 1]!.params); // repeated observations
    const value = Object.values(params).reduce<number>((s, v) => s + Math.sin(7 * Number(v)), 0) + next();
    const pruned = pruneEvery > 0 ? i % pruneEvery === 0 : pruneEvery < 0 && i % -pruneEvery !== 0;
    trials.push({ params, state: pruned ? 'pruned' : 'complete', value, step: pruned ? (i * 7) % 50 : null });
  }
  return trials;
}

export function goldenCases(): GoldenCase[] {
  const h6: Space = Array.from({ length: 6 }, (_, j) => unit(`x${j}`));
  const cases: GoldenCase[] = [];
  for (const multivariate of [false, true]) {
    const mv = multivariate ? 'multivariate' : 'univariate';
    for (const seed of [0, 1, 2])
      cases.push({
        name: `hartmann-like 1000 trials, ${mv}, seed ${seed}`,
        space: h6,
        trials: history(h6, 1000, 11, 0, false),
        pending: [],
        settings: { ...DEFAULT_TPE, multivariate },
        seed,
      });
    for (const seed of [3, 4])
      cases.push({
        name: `mixed space 300 trials with pruned, ties and 3 pending, max, ${mv}, seed ${seed}`,
        space: MIXED,
        trials: history(MIXED, 300, 12, 4, true),
        pending: history(MIXED, 3, 13, 0, false).map((t) => t.params),
        settings: { ...DEFAULT_TPE, multivariate, mode: 'max' },
        seed,
      });
    cases.push({
      name: `mixed space 12 trials with ties, ${mv}`,
      space: MIXED,
      trials: history(MIXED, 12, 14, 0, true),
      pending: [],
      settings: { ...DEFAULT_TPE, multivariate },
      seed: 5,
    });
    cases.push({
      name: `mixed space 60 trials, all but every 10th pruned (pruned fill the good group), ${mv}`,
      space: MIXED,
      trials: history(MIXED, 60, 15, -10, true),
      pending: [],
      settings: { ...DEFAULT_TPE, multivariate },
      seed: 6,
    });
  }
  return cases;
}

/** Everything the sampler computes for a case, through its public pieces, then the proposal itself. */
export function runGoldenCase(c: GoldenCase): GoldenResult {
  const { below, above } = splitTrials(c.space, c.trials, c.pending, c.settings);
  // The split as columns (what propose uses) must hold the same values as the split as rows.
  const split = splitColumns(c.space, c.trials, c.pending, c.settings);
  c.space.forEach((_, d) => {
    if (below.some((row, i) => !Object.is(row[d], split.below[d]![i])) || split.below[d]!.length !== below.length)
      throw new Error(`${c.name}: splitColumns differs from splitTrials (below, parameter ${d})`);
    if (above.some((row, i) => !Object.is(row[d], split.above[d]![i])) || split.above[d]!.length !== above.length)
      throw new Error(`${c.name}: splitColumns differs from splitTrials (above, parameter ${d})`);
  });
  const groups = c.settings.multivariate ? [c.space.map((_, d) => d)] : c.space.map((_, d) => [d]);
  const next = rng(c.seed);
  const out: GoldenResult['groups'] = [];
  for (const group of groups) {
    const dims = group.map((d) => c.space[d]!);
    const columns = (rows: number[][]): number[][] => group.map((d) => rows.map((row) => row[d]!));
    const good = new ParzenEstimator(dims, columns(below), c.settings.weights(below.length), c.settings);
    const bad = new ParzenEstimator(dims, columns(above), c.settings.weights(above.length), c.settings);
    const candidates = good.sample(next, c.settings.candidates);
    out.push({ candidates, scores: candidates.map((row) => good.logPdf(row) - bad.logPdf(row)) });
  }
  const { params } = propose(c.space, c.trials, c.pending, c.settings, rng(c.seed));
  return { name: c.name, groups: out, params };
}
