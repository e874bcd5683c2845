// The offline reference: every run's memory and duration known in advance. A greedy list
// schedule (longest run first; whenever a GPU frees memory, every waiting run that fits is started
// on the GPU it fits tightest), and a lower bound no schedule can beat.
import type { SimGpu, SimRun } from './simulate.js';

export function offlineSchedule(
  gpus: readonly SimGpu[],
  runs: readonly SimRun[],
): { makespan: number; gpuSeconds: number } {
  const waiting = [...runs].sort((a, b) => b.duration - a.duration || b.memMiB - a.memMiB);
  const free = gpus.map((g) => g.totalMiB - g.foreignMiB);
  const lastEnd = gpus.map(() => 0);
  const ends: { at: number; gpu: number; mib: number }[] = [];
  let now = 0;
  for (;;) {
    for (let i = 0; i < waiting.length;) {
      const run = waiting[i]!;
      let best = -1;
      for (let g = 0; g < gpus.length; g++)
        if (free[g]! >= run.memMiB && (best < 0 || free[g]! < free[best]!)) best = g;
      if (best < 0) {
        i++;
        continue;
      }
      free[best]! -= run.memMiB;
      ends.push({ at: now + run.duration, gpu: best, mib: run.memMiB });
      waiting.splice(i, 1);
    }
    if (ends.length === 0) break;
    ends.sort((a, b) => a.at - b.at);
    const end = ends.shift()!;
    now = end.at;
    free[end.gpu]! += end.mib;
    lastEnd[end.gpu] = Math.max(lastEnd[end.gpu]!, now);
  }
  if (waiting.length > 0) throw new Error(`${waiting.length} run(s) fit on no GPU`);
  return { makespan: now, gpuSeconds: lastEnd.reduce((a, b) => a + b, 0) };
}

/**
 * No schedule finishes sooner than the longest run, than the memory-time of all runs over the
 * machine's free memory, or than the runs too big to share a GPU with each other, taken a wave
 * at a time on the GPUs that can hold them.
 */
export function lowerBound(gpus: readonly SimGpu[], runs: readonly SimRun[]): number {
  const capacity = gpus.reduce((sum, g) => sum + g.totalMiB - g.foreignMiB, 0);
  const memoryTime = runs.reduce((sum, r) => sum + r.memMiB * r.duration, 0) / capacity;
  const longest = Math.max(...runs.map((r) => r.duration));
  let exclusive = 0;
  for (const size of new Set(runs.map((r) => r.memMiB))) {
    const hosts = gpus.filter((g) => g.totalMiB - g.foreignMiB >= size);
    // Two of these never share a GPU.
    if (hosts.every((g) => g.totalMiB - g.foreignMiB < 2 * size) && hosts.length > 0) {
      const these = runs
        .filter((r) => r.memMiB === size)
        .map((r) => r.duration)
        .sort((a, b) => b - a);
      exclusive = Math.max(exclusive, Math.ceil(these.length / hosts.length) * these[these.length - 1]!);
    }
  }
  return Math.max(memoryTime, longest, exclusive);
}
