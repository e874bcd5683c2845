// Finds the machine's GPUs with nvidia-smi and turns the sweep's resources into slots.
import { execa } from 'execa';
import { SpecError } from '../errors.js';
import type { Resources } from '../sweep-file/schema.js';
import { linkCost } from './nvidia-smi.js';

export interface Gpu {
  index: number;
  name: string;
  memoryMiB: number;
}

export interface Slot {
  /** "gpu0.1" (GPU 0, its second slot) or "cpu2". */
  id: string;
  /** The GPU index the slot's runs see as CUDA_VISIBLE_DEVICES, or null on a CPU slot. */
  gpu: number | null;
  /** gpus_per_run > 1: every GPU the run sees (the first is `gpu`). */
  gpus?: readonly number[];
  gpuName?: string;
  gpuMemoryMiB?: number;
}

/** The GPUs a slot's runs see (several for gpus_per_run > 1); none on a CPU slot. */
export function slotGpus(slot: Slot): readonly number[] {
  return slot.gpus ?? (slot.gpu === null ? [] : [slot.gpu]);
}

/** GPUs that nvidia-smi reports; none when it is absent or fails (a CPU machine). */
export async function detectGpus(command = 'nvidia-smi'): Promise<Gpu[]> {
  const result = await execa(command, ['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits'], {
    reject: false,
    timeout: 15_000,
    stdin: 'ignore',
  });
  if (result.failed || typeof result.stdout !== 'string') return [];
  return parseNvidiaSmi(result.stdout);
}

export function parseNvidiaSmi(output: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of output.split('\n')) {
    const [index, name, memory] = line.split(',').map((part) => part.trim());
    if (index === undefined || name === undefined || !/^\d+$/.test(index)) continue;
    gpus.push({ index: Number(index), name, memoryMiB: Number(memory) || 0 });
  }
  return gpus;
}

export function buildSlots(
  resources: Resources,
  detected: readonly Gpu[],
  file: string,
  topology: ReadonlyMap<number, ReadonlyMap<number, string>> | null = null,
): Slot[] {
  let gpus: Gpu[];
  if (resources.gpus === 'none') gpus = [];
  else if (resources.gpus === 'auto') gpus = [...detected];
  else {
    const wanted = resources.gpus;
    // Without nvidia-smi the user's list is trusted (a container may hide it); with it, checked.
    const missing = detected.length > 0 ? wanted.filter((i) => !detected.some((g) => g.index === i)) : [];
    if (missing.length > 0) {
      throw new SpecError(file, [
        `resources.gpus: GPU ${missing.join(', ')} not found; nvidia-smi reports ${detected.map((g) => g.index).join(', ')}`,
      ]);
    }
    gpus = wanted.map((index) => detected.find((g) => g.index === index) ?? { index, name: 'unknown', memoryMiB: 0 });
  }
  if (gpus.length === 0) {
    return Array.from({ length: resources.cpu_slots }, (_, i) => ({ id: `cpu${i}`, gpu: null }));
  }
  const perRun = resources.gpus_per_run ?? 1;
  const memory = resources.pack === 'memory';
  if (perRun > 1 && memory)
    throw new SpecError(file, [
      'resources.pack: memory places one-GPU runs; with gpus_per_run > 1 use pack: runs_per_gpu',
    ]);
  if (perRun > gpus.length)
    throw new SpecError(file, [
      `resources.gpus_per_run: ${perRun} GPUs per run, but only ${gpus.length} GPU(s) to use`,
    ]);
  // pack: memory: up to max_runs_per_gpu slots per GPU; which are used is decided by free memory.
  const perGpu = memory ? (resources.max_runs_per_gpu ?? 16) : resources.runs_per_gpu;
  const groups = perRun > 1 ? groupGpus(gpus, perRun, topology) : gpus.map((gpu) => [gpu]);
  // Interleave GPUs so that the first runs spread over all GPUs before any GPU gets a second one.
  const slots: Slot[] = [];
  for (let k = 0; k < perGpu; k++) {
    for (const group of groups) {
      const first = group[0]!;
      const id = `gpu${group.map((g) => g.index).join('+')}.${k}`;
      const memoryMiB = Math.min(...group.map((g) => g.memoryMiB));
      slots.push({
        id,
        gpu: first.index,
        ...(group.length > 1 ? { gpus: group.map((g) => g.index) } : {}),
        gpuName: first.name,
        gpuMemoryMiB: memoryMiB,
      });
    }
  }
  return slots;
}

/**
 * Splits the GPUs into groups of `size` (the rest left out), each as close together as the
 * interconnect matrix says: from the lowest free index, the GPUs with the cheapest links to the
 * group so far. Without a matrix, neighbours by index.
 */
export function groupGpus(
  gpus: readonly Gpu[],
  size: number,
  topology: ReadonlyMap<number, ReadonlyMap<number, string>> | null,
): Gpu[][] {
  const left = [...gpus].sort((a, b) => a.index - b.index);
  const groups: Gpu[][] = [];
  while (left.length >= size) {
    const group = [left.shift()!];
    while (group.length < size) {
      let best = 0;
      let bestCost = Infinity;
      left.forEach((candidate, i) => {
        const cost = group.reduce(
          (sum, member) =>
            sum + linkCost(topology?.get(member.index)?.get(candidate.index) ?? (topology ? undefined : 'PIX')),
          0,
        );
        if (cost < bestCost) {
          bestCost = cost;
          best = i;
        }
      });
      group.push(left.splice(best, 1)[0]!);
    }
    groups.push(group);
  }
  return groups;
}
