// The warmup rule every part reads the same way: a step count, or "N%" of a run's total steps
// (rounded to the nearest step). Sweep-file checks, the trainer's schedule and the pruner's
// warmup-aware rungs all call these, so the three can never disagree.

const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/** What a warmup value says: steps, a percentage of the total, or not a warmup at all. */
export type Warmup = { steps: number } | { percent: number };

export function parseWarmup(value: unknown): Warmup | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { steps: value } : null;
  if (typeof value !== 'string') return null;
  const match = PERCENT.exec(value.trim());
  if (match === null) return null;
  const percent = Number(match[1]);
  return percent <= 100 ? { percent } : null;
}

export const WARMUP_EXPECTED = 'a number of steps >= 0 or a percentage such as "10%"';

/** The warmup in steps once the run's total is known; null while a percentage cannot be resolved. */
export function warmupSteps(warmup: Warmup, totalSteps: number | null): number | null {
  if ('steps' in warmup) return warmup.steps;
  return totalSteps === null ? null : Math.round((warmup.percent / 100) * totalSteps);
}
