// Learning-rate schedules, exactly as OpenCLIP's training/scheduler.py computes them. `step` is
// the 0-based index of the optimiser step about to be taken.
import { parseWarmup, warmupSteps, WARMUP_EXPECTED } from '../protocol/warmup.js';

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
  const parsed = parseWarmup(warmup);
  if (parsed === null) throw new Error(`warmup: expected ${WARMUP_EXPECTED}, got ${JSON.stringify(warmup)}`);
  return warmupSteps(parsed, totalSteps) ?? 0;
}
