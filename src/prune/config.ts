import { z } from 'zod';

const common = {
  /** The metric judged, e.g. val/i2t_R@1 or val/loss. */
  metric: z.string().min(1),
  mode: z.enum(['min', 'max']),
  /** Steps (after warmup, when warmup_aware) before a run can be judged at all. */
  grace: z.number().int().positive(),
  /** Count steps from the end of each run's own warmup, so no run is judged during its warmup. */
  warmup_aware: z.boolean().default(true),
};

export const earlyTerminationSchema = z.union([
  z.strictObject({
    type: z.literal('asha'),
    ...common,
    /** Keep the best 1/reduction at each rung; rungs at grace * reduction^k steps. */
    reduction: z.number().gt(1).default(3),
    /**
     * A run that reaches a rung before `reduction` runs have: it continues ('continue'), or only
     * if it is the best there so far ('best'). In the ASHA paper such a run waits until it can be
     * promoted; a run here cannot wait, so 'best' (as in Optuna's successive halving) is the
     * nearest rule that still cuts from the first runs on.
     */
    few_runs: z.enum(['continue', 'best']).default('continue'),
    /**
     * The value a run brings to a rung: its value there ('latest'), or its best value so far
     * ('best'), what a sweep that keeps each run's best checkpoint and ranks runs by it would get.
     */
    rung_value: z.enum(['latest', 'best']).default('latest'),
  }),
  z.strictObject({
    type: z.literal('median'),
    ...common,
    /** Other runs needed at a step before the median means anything. */
    min_runs: z.number().int().positive().default(3),
  }),
]);

export type EarlyTermination = z.infer<typeof earlyTerminationSchema>;
