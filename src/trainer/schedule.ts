// Learning-rate schedules, exactly as OpenCLIP's training/scheduler.py computes them. `step` is
// the 0-based index of the optimiser step about to be taken.

export type ScheduleKind = 'cosine' | 'const' | 'linear';

export interface Schedule {
  kind: ScheduleKind;
  baseLr: number;
  warmup: number;
  totalSteps: number;
}

export function lrAt(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.baseLr * (step + 1)) / s.warmup;
  if (s.kind === 'const') return s.baseLr;
  const e = step - s.warmup;
  const es = s.totalSteps - s.warmup;
  // es <= 0 only when warmup covers the whole run; then the step above already returned.
  if (es <= 0) return s.baseLr;
  if (s.kind === 'cosine') return 0.5 * (1 + Math.cos((Math.PI * e) / es)) * s.baseLr;
  return s.baseLr * (1 - e / es);
}

/** "10%" of the total steps, or a step count. */
export function resolveWarmup(warmup: number | string, totalSteps: number): number {
  if (typeof warmup === 'number') return warmup;
  const m = /^(\d+(?:\.\d+)?)%$/.exec(warmup.trim());
  if (!m) throw new Error(`warmup: expected a step count or a percentage such as "10%", got ${JSON.stringify(warmup)}`);
  return Math.round((Number(m[1]) / 100) * totalSteps);
}
