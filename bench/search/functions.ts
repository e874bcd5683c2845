// The benchmark's objective functions, all minimised. The same definitions are in optuna_tpe.py:
// keep the two in step.
import type { Space } from '../../src/search/space.js';

export interface Objective {
  name: string;
  space: Space;
  /** The noise-free value. */
  f: (p: Record<string, unknown>) => number;
  /** Standard deviation of the Gaussian noise added to what the sampler sees (0: none). */
  noise: number;
  optimum: number;
}

const num = (name: string, low: number, high: number, log = false, int = false) => ({
  kind: 'numeric' as const,
  name,
  low,
  high,
  log,
  int,
});

/** Branin-Hoo on [-5, 10] x [0, 15]; minimum 0.397887 at three points. */
function branin(p: Record<string, unknown>): number {
  const x1 = p.x1 as number;
  const x2 = p.x2 as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

/** Hartmann-6 on [0, 1]^6; minimum -3.32237. */
function hartmann6(p: Record<string, unknown>): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * ((p[`x${j}`] as number) - H_P[i]![j]!) ** 2;
    sum += H_ALPHA[i]! * Math.exp(-inner);
  }
  return -sum;
}

/**
 * A stand-in for the built-in trainer's val/loss over lr x batch size x warmup (the space of
 * sweeps/random-search-asha.yaml). No recorded sweep database was available to fit, so this is an
 * analytic surface set to what docs/early-termination.md reports of the two recorded sweeps: best
 * val/loss about 2.0 near lr 4e-4 (batch 64, warmup 38; batch 16 at 4e-4 within 1%), the optimal
 * lr growing with the batch, short warmups hurting at high lr, divergence to chance (ln 64) at
 * the top of the range. See docs/search.md.
 */
function surrogate(p: Record<string, unknown>): number {
  const u = Math.log10(p.lr as number);
  const b = Math.log2((p.batch_size as number) / 16); // 0, 1, 2
  const w = p.warmup as number;
  const best = Math.log10(4e-4) + 0.12 * (b - 1);
  const shape = 0.9 * (u - best) ** 2 + 0.015 * (b - 1.5) ** 2;
  const unstable = (0.6 / (1 + Math.exp(-8 * (u + 3.2)))) * Math.exp(-w / 25);
  const slowStart = 0.08 * (w / 60) ** 2 * (u < best ? 1 : 0.3);
  return Math.min(Math.log(64), 2.0 + shape + unstable + slowStart);
}

export const OBJECTIVES: Objective[] = [
  { name: 'Branin', space: [num('x1', -5, 10), num('x2', 0, 15)], f: branin, noise: 0, optimum: 0.397887 },
  {
    name: 'Hartmann-6',
    space: Array.from({ length: 6 }, (_, j) => num(`x${j}`, 0, 1)),
    f: hartmann6,
    noise: 0,
    optimum: -3.32237,
  },
  {
    name: 'Hartmann-6, noise sd 0.1',
    space: Array.from({ length: 6 }, (_, j) => num(`x${j}`, 0, 1)),
    f: hartmann6,
    noise: 0.1,
    optimum: -3.32237,
  },
  {
    name: 'lr x batch x warmup surrogate',
    space: [
      num('lr', 1e-5, 3e-3, true),
      { kind: 'categorical', name: 'batch_size', choices: [16, 32, 64], keys: ['16', '32', '64'] },
      num('warmup', 0, 60, false, true),
    ],
    f: surrogate,
    noise: 0.01,
    optimum: 2.0341, // at lr 4.0e-4, batch 32, warmup 47 (a dense grid search)
  },
];
