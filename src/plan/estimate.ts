// What a sweep will cost, before it runs: each run's duration taken from earlier runs of the same
// trainer (the same parameters apart from seed; else the same batch size; else their mean), laid
// over the slots as the queue would (plan order, each run on the first slot to free up). Pure.
import type { Slot } from '../resources/gpus.js';
import { memoryKey } from '../resources/predictor.js';

export interface PastRun {
  params: Record<string, unknown>;
  /** Seconds the run took; only completed runs. */
  seconds: number;
}

export interface PlannedRun {
  name: string;
  params: Record<string, unknown>;
}

export type Estimate =
  | {
      ok: true;
      /** Seconds per run, in plan order, and where each figure came from. */
      runs: { name: string; seconds: number; basis: 'same-params' | 'same-batch' | 'mean' }[];
      wallClockSeconds: number;
      /** GPU-seconds (CPU slots count none). */
      gpuSeconds: number;
      slotSeconds: number;
    }
  | { ok: false; why: string };

export function estimateSweep(
  runs: readonly PlannedRun[],
  slots: readonly Slot[],
  past: readonly PastRun[],
  batchKey = 'batch_size',
): Estimate {
  if (past.length === 0) return { ok: false, why: 'no completed run of the same trainer to estimate from' };
  if (slots.length === 0) return { ok: false, why: 'no slots' };
  const byKey = new Map<string, number[]>();
  const byBatch = new Map<string, number[]>();
  for (const run of past) {
    push(byKey, memoryKey(run.params), run.seconds);
    push(byBatch, JSON.stringify(run.params[batchKey] ?? null), run.seconds);
  }
  const overall = mean(past.map((r) => r.seconds));
  const estimated = runs.map((run) => {
    const same = byKey.get(memoryKey(run.params));
    if (same) return { name: run.name, seconds: mean(same), basis: 'same-params' as const };
    const batch = run.params[batchKey] === undefined ? undefined : byBatch.get(JSON.stringify(run.params[batchKey]));
    if (batch) return { name: run.name, seconds: mean(batch), basis: 'same-batch' as const };
    return { name: run.name, seconds: overall, basis: 'mean' as const };
  });
  // The queue's order: each run starts on the slot that frees first.
  const freeAt = slots.map(() => 0);
  let gpuSeconds = 0;
  let slotSeconds = 0;
  for (const run of estimated) {
    let slot = 0;
    for (let i = 1; i < freeAt.length; i++) if (freeAt[i]! < freeAt[slot]!) slot = i;
    freeAt[slot]! += run.seconds;
    slotSeconds += run.seconds;
    const s = slots[slot]!;
    gpuSeconds += run.seconds * (s.gpus?.length ?? (s.gpu === null ? 0 : 1));
  }
  return { ok: true, runs: estimated, wallClockSeconds: Math.max(...freeAt), gpuSeconds, slotSeconds };
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
