// `sweep run --dry-run`: the slot layout, and with --estimate-from SWEEP what the sweep will cost
// (wall-clock and GPU-hours) from the measured durations of that sweep's runs of the same trainer.
import { existsSync } from 'node:fs';
import { estimateSweep, type Estimate } from '../../plan/estimate.js';
import type { Slot } from '../../resources/gpus.js';
import type { RunSpec } from '../../sweep-file/expand.js';
import type { SweepSpec } from '../../sweep-file/load.js';
import { openReader } from '../../store/index.js';

export function estimateFrom(
  sweepName: string,
  asked: unknown,
  runs: readonly RunSpec[],
  slots: readonly Slot[],
  dbFile: string,
): Estimate {
  if (!existsSync(dbFile)) return { ok: false, why: `no database at ${dbFile}` };
  const store = openReader(dbFile);
  try {
    const sweep = store.findSweep(sweepName);
    if (sweep === undefined) return { ok: false, why: `no sweep named ${sweepName} in ${dbFile}` };
    const trainer = (spec: unknown): string => JSON.stringify((spec as { trainer?: unknown } | null)?.trainer ?? null);
    const measured = store.measuredRuns(sweep.pk);
    if (measured.length > 0 && trainer(measured[0]!.spec) !== trainer(asked))
      return { ok: false, why: `${sweepName} ran a different trainer` };
    const past = measured
      .filter((r) => r.status === 'completed' && r.startedAt !== null && r.endedAt !== null)
      .map((r) => ({ params: r.params, seconds: r.endedAt! - r.startedAt! }));
    return estimateSweep(runs, slots, past);
  } finally {
    store.close();
  }
}

const hours = (seconds: number): string =>
  seconds >= 3600 ? `${(seconds / 3600).toFixed(2)} h` : `${(seconds / 60).toFixed(1)} min`;

export interface Cost {
  slots: { id: string; gpus: readonly number[] }[];
  layout: string;
  estimate: Estimate | null;
}

export function costOf(spec: SweepSpec, slots: readonly Slot[], estimate: Estimate | null): Cost {
  const r = spec.resources;
  const layout =
    r.pack === 'memory'
      ? `pack: memory (runs placed by measured GPU memory, margin ${r.memory_margin_mib ?? 1024} MiB, at most ${r.max_runs_per_gpu ?? 16} per GPU)`
      : slots.some((s) => s.gpu !== null)
        ? `${r.runs_per_gpu} run(s) per GPU${(r.gpus_per_run ?? 1) > 1 ? `, ${r.gpus_per_run} GPUs per run` : ''}`
        : `${slots.length} CPU slot(s)`;
  return { slots: slots.map((s) => ({ id: s.id, gpus: s.gpus ?? (s.gpu === null ? [] : [s.gpu]) })), layout, estimate };
}

export function printCost(cost: Cost, from: string | undefined, memory: boolean, out: NodeJS.WritableStream): void {
  const { estimate } = cost;
  out.write(`slots: ${cost.slots.map((s) => s.id).join(' ')}\nlayout: ${cost.layout}\n`);
  if (estimate === null) {
    out.write('cost: not estimated (--estimate-from SWEEP estimates it from a recorded sweep of the same trainer)\n');
    return;
  }
  if (!estimate.ok) {
    out.write(`cost: cannot estimate from ${from}: ${estimate.why}\n`);
    return;
  }
  const bases = new Map<string, number>();
  for (const run of estimate.runs) bases.set(run.basis, (bases.get(run.basis) ?? 0) + 1);
  const how = [...bases].map(([basis, n]) => `${n} by ${basis}`).join(', ');
  out.write(
    `cost (from ${from}: ${how}): wall-clock ${hours(estimate.wallClockSeconds)}, GPU-hours ${(estimate.gpuSeconds / 3600).toFixed(2)}, run time ${(estimate.slotSeconds / 3600).toFixed(2)} h in all\n`,
  );
  if (memory) out.write('  (pack: memory: laid out one run per GPU, so the wall-clock is an upper bound)\n');
}
