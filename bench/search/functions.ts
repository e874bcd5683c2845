// The benchmark's objective functions, all minimised. The same definitions are in optuna_tpe.py:
// keep the two in step.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

/** bench/search/recorded.json: a real sweep of the built-in trainer (bench/search/record.ts writes it). */
interface Recorded {
  runs: { lr: number; batch_size: number; warmup: number; best_val_loss: number }[];
}

/**
 * The built-in trainer's best val/loss over lr x batch size x warmup, from the recorded grid
 * sweep (bench/search/recorded-sweep.yaml: 5 learning rates x 3 batch sizes x 3 warmups, 100
 * steps a run): exact at the recorded points, bilinear in (log lr, warmup) between them for each
 * batch size. A bilinear cell takes its extremes at its corners, so the optimum is the best run.
 */
export class RecordedSurface {
  readonly lrs: number[];
  readonly batches: number[];
  readonly warmups: number[];
  /** value[batch][lr][warmup] */
  private readonly value: number[][][];

  constructor(recorded: Recorded) {
    const axis = (pick: (r: Recorded['runs'][number]) => number): number[] =>
      [...new Set(recorded.runs.map(pick))].sort((a, b) => a - b);
    this.lrs = axis((r) => r.lr);
    this.batches = axis((r) => r.batch_size);
    this.warmups = axis((r) => r.warmup);
    this.value = this.batches.map(() => this.lrs.map(() => this.warmups.map(() => NaN)));
    for (const r of recorded.runs)
      this.value[this.batches.indexOf(r.batch_size)]![this.lrs.indexOf(r.lr)]![this.warmups.indexOf(r.warmup)] =
        r.best_val_loss;
    if (this.value.flat(2).some(Number.isNaN)) throw new Error('recorded.json: the recorded sweep is not a full grid');
  }

  get optimum(): number {
    return Math.min(...this.value.flat(2));
  }

  at(lr: number, batch: number, warmup: number): number {
    const b = this.batches.indexOf(batch);
    if (b < 0) throw new Error(`batch_size ${batch} was not recorded`);
    const [i, s] = cell(this.lrs.map(Math.log), Math.log(lr));
    const [j, t] = cell(this.warmups, warmup);
    const v = this.value[b]!;
    return (1 - s) * ((1 - t) * v[i]![j]! + t * v[i]![j + 1]!) + s * ((1 - t) * v[i + 1]![j]! + t * v[i + 1]![j + 1]!);
  }
}

/** The cell of a sorted axis that holds x (clamped to the axis), and x's fraction across it. */
function cell(axis: number[], x: number): [number, number] {
  let i = 0;
  while (i < axis.length - 2 && x > axis[i + 1]!) i++;
  const t = (x - axis[i]!) / (axis[i + 1]! - axis[i]!);
  return [i, Math.min(1, Math.max(0, t))];
}

export const RECORDED = new RecordedSurface(
  JSON.parse(
    readFileSync(fileURLToPath(new URL('../../../bench/search/recorded.json', import.meta.url)), 'utf8'),
  ) as Recorded,
);

const surrogate = (p: Record<string, unknown>): number =>
  RECORDED.at(p.lr as number, p.batch_size as number, p.warmup as number);

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
      num('lr', RECORDED.lrs[0]!, RECORDED.lrs.at(-1)!, true),
      { kind: 'categorical', name: 'batch_size', choices: RECORDED.batches, keys: RECORDED.batches.map(String) },
      num('warmup', RECORDED.warmups[0]!, RECORDED.warmups.at(-1)!, false, true),
    ],
    f: surrogate,
    noise: 0.01,
    optimum: RECORDED.optimum, // the best recorded run
  },
];
