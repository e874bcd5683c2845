// `sweep status`: each GPU's occupancy now, from nvidia-smi, with the memory of the sweep's
// running runs (matched by process group) told apart from everyone else's.
import { readNvidiaSmi } from '../../resources/gpu-monitor.js';
import { runOfProcess } from '../../resources/proc.js';
import type { RunRecord } from '../../store/types.js';

export interface GpuOccupancy {
  index: number;
  name: string;
  totalMiB: number;
  usedMiB: number;
  util: number | null;
  sweepMiB: number;
  runs: string[];
}

/** Null when nvidia-smi is absent (a CPU machine, or a login node of a cluster). */
export async function gpuOccupancy(runs: readonly RunRecord[]): Promise<GpuOccupancy[] | null> {
  const reading = await readNvidiaSmi();
  if (reading === null || reading.gpus.length === 0) return null;
  const leaders = new Map<number, RunRecord>();
  for (const run of runs) if (run.status === 'running' && run.pid !== null) leaders.set(run.pid, run);
  return reading.gpus.map((gpu) => {
    const names = new Set<string>();
    let sweepMiB = 0;
    for (const process of reading.processes) {
      if (process.gpuUuid !== gpu.uuid) continue;
      const run = runOfProcess(process.pid, leaders);
      if (run === null) continue;
      sweepMiB += process.usedMiB;
      names.add(run.name);
    }
    return {
      index: gpu.index,
      name: gpu.name,
      totalMiB: gpu.totalMiB,
      usedMiB: gpu.usedMiB,
      util: gpu.util,
      sweepMiB,
      runs: [...names],
    };
  });
}

export function formatOccupancy(gpus: readonly GpuOccupancy[]): string {
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  return gpus
    .map((g) => {
      const others = Math.max(0, g.usedMiB - g.sweepMiB);
      const sweep = g.runs.length > 0 ? `this sweep ${n(g.sweepMiB)} MiB (${g.runs.join(', ')})` : 'none of this sweep';
      return `GPU ${g.index} ${g.name}: ${n(g.usedMiB)} / ${n(g.totalMiB)} MiB used: ${sweep}, others ${n(others)} MiB; utilisation ${g.util === null ? '—' : `${g.util}%`}`;
    })
    .join('\n')
    .concat('\n');
}
