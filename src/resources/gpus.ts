// Finds the machine's GPUs with nvidia-smi and turns the sweep's resources into slots.
import { execa } from 'execa';
import { SpecError } from '../errors.js';
import type { Resources } from '../sweep-file/schema.js';

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

export function buildSlots(resources: Resources, detected: readonly Gpu[], file: string): Slot[] {
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
  // Interleave GPUs so that the first runs spread over all GPUs before any GPU gets a second one.
  const slots: Slot[] = [];
  for (let k = 0; k < resources.runs_per_gpu; k++) {
    for (const gpu of gpus) slots.push({ id: `gpu${gpu.index}.${k}`, gpu: gpu.index, gpuName: gpu.name, gpuMemoryMiB: gpu.memoryMiB });
  }
  return slots;
}
