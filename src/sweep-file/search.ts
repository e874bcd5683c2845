// Random search: draws configurations from the grid's lists and distributions with a seeded
// generator, so the same file always draws the same runs (and resuming draws nothing new).
import { z } from 'zod';
import { mulberry32 } from '../random/mulberry32.js';

const bounds = z
  .tuple([z.number(), z.number()])
  .refine(
    ([low, high]) => Number.isFinite(low) && Number.isFinite(high) && low < high,
    'expected [low, high] with low < high',
  );

export const distributionSchema = z.union([
  z.strictObject({ uniform: bounds, int: z.boolean().default(false) }),
  z.strictObject({
    loguniform: bounds.refine(([low]) => low > 0, 'expected positive bounds for a log-uniform distribution'),
    int: z.boolean().default(false),
  }),
]);

export type Distribution = z.infer<typeof distributionSchema>;

export const searchSchema = z.strictObject({
  strategy: z.enum(['grid', 'random', 'tpe']).default('grid'),
  /** random: how many configurations to draw; tpe: how many to propose in all (start-up included) */
  samples: z.number().int().positive().optional(),
  seed: z.number().int().nonnegative().default(0),
  /** tpe: the objective, each run's best value of this metric (as the report ranks) */
  metric: z.string().min(1).optional(),
  mode: z.enum(['min', 'max']).optional(),
  /** tpe: random proposals until this many runs have finished (Optuna's n_startup_trials) */
  startup: z.number().int().nonnegative().default(10),
  /** tpe: model the parameters jointly rather than one by one (Optuna's multivariate) */
  multivariate: z.boolean().default(false),
});

export type Search = z.infer<typeof searchSchema>;

export function isDistribution(value: unknown): value is Distribution {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    ('uniform' in value || 'loguniform' in value)
  );
}

/** Four significant digits: enough for a hyperparameter, and readable in names and ids. */
function round4(value: number): number {
  return Number(value.toPrecision(4));
}

export function draw(
  space: Record<string, unknown[] | Distribution>,
  samples: number,
  seed: number,
): Record<string, unknown>[] {
  const next = mulberry32(seed);
  const points: Record<string, unknown>[] = [];
  for (let i = 0; i < samples; i++) {
    const point: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(space)) {
      const u = next();
      if (Array.isArray(spec)) point[key] = spec[Math.min(spec.length - 1, Math.floor(u * spec.length))];
      else if ('uniform' in spec) {
        const [low, high] = spec.uniform;
        const value = low + u * (high - low);
        point[key] = spec.int ? Math.round(value) : round4(value);
      } else {
        const [low, high] = spec.loguniform;
        const value = Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low)));
        point[key] = spec.int ? Math.round(value) : round4(value);
      }
    }
    points.push(point);
  }
  return points;
}
