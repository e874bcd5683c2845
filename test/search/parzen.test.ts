// Known answers for the Parzen estimators. Kernel widths are worked out by hand in the comments;
// the expected log densities were computed from those widths with Python's math.erf (an
// implementation independent of src/search/normal.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { erfc, logErfc, logGaussMass } from '../../src/search/normal.js';
import { DEFAULT_PARZEN, ParzenEstimator } from '../../src/search/parzen.js';
import type { Dimension } from '../../src/search/space.js';
import { mulberry32 as rng } from '../../src/random/mulberry32.js';

const close = (actual: number, expected: number, tol = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);

const x: Dimension = { kind: 'numeric', name: 'x', low: 0, high: 10, log: false, int: false };

describe('the normal distribution', () => {
  it('matches reference values of erfc and the Gaussian mass, deep in the tails too', () => {
    close(erfc(1), 0.15729920705028513, 1e-14);
    close(erfc(3), 2.2090496998585438e-5, 1e-12);
    close(erfc(6), 2.1519736712498916e-17, 1e-12);
    close(erfc(-1), 2 - 0.15729920705028513, 1e-14);
    close(logGaussMass(-1, 1), Math.log(0.682689492137086), 1e-13);
    // erfc(30) underflows a double; its log is -900 - log(30 sqrt(pi)) + log(1 - 1/1800 + 3/3240000 - ...).
    close(logErfc(30), -900 - Math.log(30 * Math.sqrt(Math.PI)) + Math.log(1 - 1 / 1800 + 3 / 3_240_000), 1e-9);
    assert.ok(Number.isFinite(logGaussMass(-41, -40)) && logGaussMass(-41, -40) < -800);
    close(logGaussMass(40, 41), logGaussMass(-41, -40), 1e-12);
  });
});

describe('numeric Parzen estimator', () => {
  it('widens each kernel to its larger neighbour gap, the outermost to their inner gap (no endpoints)', () => {
    // Observations 2 and 5 in [0, 10]: sorted with ends 0,2,5,10; without endpoints both outer
    // kernels take the inner gap 3. Magic clip floor 10/min(100, 1+3) = 2.5. Prior N(5, 10).
    const pe = new ParzenEstimator([x], [[2, 5]], [1, 1], DEFAULT_PARZEN);
    assert.deepEqual([...pe.numericKernels(0).mus], [2, 5, 5]);
    assert.deepEqual([...pe.numericKernels(0).sigmas], [3, 3, 10]);
    close(pe.logPdf([4]), -2.050696297756328);
  });

  it('clips a narrow kernel to range / min(100, 1 + kernels) (the magic clip)', () => {
    // 2, 2.1, 9: gaps give 0.1, 6.9, 6.9; four kernels with the prior, so the floor is 10/5 = 2.
    const pe = new ParzenEstimator([x], [[2, 2.1, 9]], [1, 1, 1], DEFAULT_PARZEN);
    assert.deepEqual(
      [...pe.numericKernels(0).sigmas].map((s) => Number(s.toFixed(12))),
      [2, 6.9, 6.9, 10],
    );
    const unclipped = new ParzenEstimator([x], [[2, 2.1, 9]], [1, 1, 1], { ...DEFAULT_PARZEN, magicClip: false });
    close(unclipped.numericKernels(0).sigmas[0]!, 0.1, 1e-12);
  });

  it('works in log space for a log range', () => {
    // One observation 1e-4 in [1e-6, 1e-2]: in log space it sits mid-range; its kernel is as wide
    // as the gap to either end, ln(100) = 4.6052.
    const lr: Dimension = { kind: 'numeric', name: 'lr', low: 1e-6, high: 1e-2, log: true, int: false };
    const pe = new ParzenEstimator([lr], [[1e-4]], [1], DEFAULT_PARZEN);
    close(pe.numericKernels(0).sigmas[0]!, 4.605170185988092, 1e-12);
    close(pe.logPdf([3e-5]), -2.1422387501834876);
  });

  it('gives an integer the mass of its unit interval', () => {
    // [1, 5] widened to [0.5, 5.5]; one observation 3 with width 2.5; prior N(3, 5).
    const n: Dimension = { kind: 'numeric', name: 'n', low: 1, high: 5, log: false, int: true };
    const pe = new ParzenEstimator([n], [[3]], [1], DEFAULT_PARZEN);
    close(pe.logPdf([3]), -1.513633637264256);
    const total = [1, 2, 3, 4, 5].reduce((sum, v) => sum + Math.exp(pe.logPdf([v])), 0);
    close(total, 1, 1e-12);
  });

  it('samples inside the range, integers as integers', () => {
    const n: Dimension = { kind: 'numeric', name: 'n', low: 16, high: 512, log: true, int: true };
    const pe = new ParzenEstimator(
      [x, n],
      [
        [1, 9.5],
        [16, 500],
      ],
      [1, 1],
      DEFAULT_PARZEN,
    );
    for (const [a, b] of pe.sample(rng(3), 500)) {
      assert.ok(a! >= 0 && a! <= 10);
      assert.ok(Number.isInteger(b) && b! >= 16 && b! <= 512);
    }
  });
});

describe('categorical Parzen estimator', () => {
  it("spreads the prior's weight over every kernel's row", () => {
    // Observed choices 0, 0, 2 of 3; four kernels, each row gets 1/4 on every choice before
    // normalising: [1.25, .25, .25]/1.75 twice, [.25, .25, 1.25]/1.75, and the uniform prior.
    const c: Dimension = { kind: 'categorical', name: 'c', choices: ['a', 'b', 'c'], keys: ['"a"', '"b"', '"c"'] };
    const pe = new ParzenEstimator([c], [[0, 0, 2]], [1, 1, 1], DEFAULT_PARZEN);
    close(pe.logPdf([0]), -0.7419373447293773);
    close(pe.logPdf([1]), -1.6582280766035324);
    close(Math.exp(pe.logPdf([0])) + Math.exp(pe.logPdf([1])) + Math.exp(pe.logPdf([2])), 1, 1e-12);
  });

  it('is uniform with no observations', () => {
    const c: Dimension = { kind: 'categorical', name: 'c', choices: [1, 2, 3, 4], keys: ['1', '2', '3', '4'] };
    const pe = new ParzenEstimator([c], [[]], [], DEFAULT_PARZEN);
    close(pe.logPdf([2]), Math.log(0.25));
  });
});
