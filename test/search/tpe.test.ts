// The TPE sampler: the acquisition step on a hand-computed case, the split, determinism, the
// constant liar, and a fixed-seed comparison with random search.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PARZEN, ParzenEstimator } from '../../src/search/parzen.js';
import type { Dimension, Space } from '../../src/search/space.js';
import {
  bestCandidate,
  DEFAULT_TPE,
  defaultGamma,
  defaultWeights,
  propose,
  splitTrials,
  type Trial,
} from '../../src/search/tpe.js';
import { mulberry32 as rng } from '../../src/random/mulberry32.js';

const x: Dimension = { kind: 'numeric', name: 'x', low: 0, high: 10, log: false, int: false };
const y: Dimension = { kind: 'numeric', name: 'y', low: 0, high: 10, log: false, int: false };
const done = (params: Record<string, unknown>, value: number): Trial => ({
  params,
  state: 'complete',
  value,
  step: null,
});

describe('TPE acquisition', () => {
  it('scores candidates by log l(x) - log g(x) and keeps the best', () => {
    // l: one observation at 2 (width 8, the larger gap to an end); g: 7 and 9 (both width 2 by
    // the inner gap, above the 10/4 = 2.5 floor, so 2.5). Scores computed with Python's math.erf.
    const good = new ParzenEstimator([x], [[2]], [1], DEFAULT_PARZEN);
    const bad = new ParzenEstimator([x], [[7, 9]], [1, 1], DEFAULT_PARZEN);
    const { row, scores } = bestCandidate(good, bad, [[1], [5], [9]]);
    [1.0658555665058977, 0.03722427366411951, -0.593549029787797].forEach((expected, i) =>
      assert.ok(Math.abs(scores[i]! - expected) < 1e-9, `${scores[i]} != ${expected}`),
    );
    assert.deepEqual(row, [1]);
  });

  it("has Optuna's gamma and weights", () => {
    assert.deepEqual([0, 1, 10, 11, 100, 300].map(defaultGamma), [0, 1, 1, 2, 10, 25]);
    assert.deepEqual(defaultWeights(3), [1, 1, 1]);
    const w = defaultWeights(30);
    assert.equal(w.length, 30);
    assert.ok(Math.abs(w[0]! - 1 / 30) < 1e-12 && Math.abs(w[4]! - 1) < 1e-12 && w[5] === 1 && w[29] === 1);
  });

  it('splits the best gamma(n) complete trials from the rest; pruned ones only fill in; pending runs are bad', () => {
    const trials: Trial[] = [
      done({ x: 1 }, 5),
      { params: { x: 2 }, state: 'pruned', value: 0.1, step: 3 },
      done({ x: 3 }, 1),
      ...Array.from({ length: 8 }, (_, i) => done({ x: 4 + i * 0.5 }, 10 + i)),
    ];
    // 11 trials: gamma = 2, so the two best complete (x=3, then x=1), in trial order.
    const split = splitTrials([x], trials, [{ x: 9.9 }], { ...DEFAULT_TPE, mode: 'min' });
    assert.deepEqual(split.below, [[1], [3]]);
    assert.equal(split.above.length, 10);
    assert.deepEqual(split.above.at(-1), [9.9]);
    assert.deepEqual(split.above[0], [2]);
    // Maximising flips the order.
    assert.deepEqual(splitTrials([x], trials, [], { ...DEFAULT_TPE, mode: 'max' }).below, [[7], [7.5]]);
    // With one complete trial only, the furthest pruned trial fills the good group.
    const few: Trial[] = [
      { params: { x: 1 }, state: 'pruned', value: 9, step: 10 },
      { params: { x: 2 }, state: 'pruned', value: 0.1, step: 3 },
      ...Array.from({ length: 9 }, (_, i) => ({
        params: { x: 3 + i * 0.5 },
        state: 'pruned' as const,
        value: 1,
        step: 1,
      })),
      done({ x: 8 }, 4),
    ];
    assert.deepEqual(splitTrials([x], few, [], { ...DEFAULT_TPE }).below, [[1], [8]]);
  });
});

const sphere = (p: Record<string, unknown>): number => ((p.x as number) - 7) ** 2 + ((p.y as number) - 2) ** 2;

function optimise(
  space: Space,
  f: (p: Record<string, unknown>) => number,
  n: number,
  seed: number,
  startup: number,
): number[] {
  const trials: Trial[] = [];
  for (let i = 0; i < n; i++) {
    const { params } = propose(space, trials, [], { ...DEFAULT_TPE, startup }, rng(seed * 1000 + i));
    trials.push(done(params, f(params)));
  }
  return trials.map((t) => t.value);
}

describe('TPE proposals', () => {
  it('are random until `startup` trials finished, TPE after', () => {
    const trials = Array.from({ length: 3 }, (_, i) => done({ x: i, y: i }, i));
    assert.equal(propose([x, y], trials, [], { ...DEFAULT_TPE, startup: 4 }, rng(1)).origin, 'random');
    assert.equal(propose([x, y], trials, [], { ...DEFAULT_TPE, startup: 3 }, rng(1)).origin, 'tpe');
  });

  it('are the same for the same seed and trials, and differ for another seed', () => {
    const a = optimise([x, y], sphere, 25, 7, 5);
    const b = optimise([x, y], sphere, 25, 7, 5);
    const c = optimise([x, y], sphere, 25, 8, 5);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('move parallel proposals apart with the liar', () => {
    const seedTrials: Trial[] = [];
    const r = rng(11);
    for (let i = 0; i < 15; i++) {
      const params = { x: r() * 10, y: r() * 10 };
      seedTrials.push(done(params, sphere(params)));
    }
    const spread = (liar: boolean, seed: number): number => {
      const pending: Record<string, unknown>[] = [];
      for (let i = 0; i < 4; i++)
        pending.push(
          propose([x, y], seedTrials, pending, { ...DEFAULT_TPE, liar, multivariate: true }, rng(seed)).params,
        );
      let min = Infinity;
      for (let i = 0; i < 4; i++)
        for (let j = i + 1; j < 4; j++)
          min = Math.min(
            min,
            Math.hypot(
              (pending[i]!.x as number) - (pending[j]!.x as number),
              (pending[i]!.y as number) - (pending[j]!.y as number),
            ),
          );
      return min;
    };
    // The same generator state for every slot (the worst case): without the liar, four identical proposals.
    assert.equal(spread(false, 5), 0);
    const withLiar = Array.from({ length: 10 }, (_, s) => spread(true, s));
    assert.ok(
      withLiar.every((d) => d > 0.05),
      `closest pair per seed: ${withLiar.join(', ')}`,
    );
  });

  it('beat random search on a quadratic with a margin (fixed seeds)', () => {
    const medianBest = (startup: number): number => {
      const bests = Array.from({ length: 15 }, (_, s) => Math.min(...optimise([x, y], sphere, 40, s, startup))).sort(
        (a, b) => a - b,
      );
      return bests[7]!;
    };
    const tpe = medianBest(10);
    const random = medianBest(40); // startup for all 40 trials: pure random search
    assert.ok(tpe < random / 3, `median best: tpe ${tpe}, random ${random}`);
  });
});
