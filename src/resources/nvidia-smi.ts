// The nvidia-smi queries GPU measurement needs, and their parsers (pure, tested on real output
// shapes): per-GPU memory and utilisation, per-process memory, and the interconnect matrix.
import { execa } from 'execa';

export interface GpuState {
  index: number;
  uuid: string;
  name: string;
  totalMiB: number;
  usedMiB: number;
  /** Percent; null when nvidia-smi says "[N/A]" (some MIG or vGPU setups). */
  util: number | null;
}

export interface GpuProcess {
  pid: number;
  gpuUuid: string;
  usedMiB: number;
}

const GPU_FIELDS = 'index,uuid,name,memory.total,memory.used,utilization.gpu';
const APP_FIELDS = 'pid,gpu_uuid,used_memory';

async function smi(command: string, args: string[]): Promise<string | null> {
  const result = await execa(command, args, { reject: false, timeout: 15_000, stdin: 'ignore' });
  return result.failed || typeof result.stdout !== 'string' ? null : result.stdout;
}

/** Every GPU's memory and utilisation now; null when nvidia-smi is absent or fails. */
export async function queryGpuStates(command = 'nvidia-smi'): Promise<GpuState[] | null> {
  const out = await smi(command, [`--query-gpu=${GPU_FIELDS}`, '--format=csv,noheader,nounits']);
  return out === null ? null : parseGpuStates(out);
}

/** Every compute process on any GPU, with its memory; null when nvidia-smi fails. */
export async function queryGpuProcesses(command = 'nvidia-smi'): Promise<GpuProcess[] | null> {
  const out = await smi(command, [`--query-compute-apps=${APP_FIELDS}`, '--format=csv,noheader,nounits']);
  return out === null ? null : parseGpuProcesses(out);
}

/** `nvidia-smi topo -m`: null when it cannot be read (then GPUs are grouped by index). */
export async function queryTopology(command = 'nvidia-smi'): Promise<Map<number, Map<number, string>> | null> {
  const out = await smi(command, ['topo', '-m']);
  return out === null ? null : parseTopology(out);
}

const num = (text: string | undefined): number | null => {
  const value = Number(text?.trim());
  return text === undefined || text.trim() === '' || !Number.isFinite(value) ? null : value;
};

export function parseGpuStates(output: string): GpuState[] {
  const gpus: GpuState[] = [];
  for (const line of output.split('\n')) {
    const parts = line.split(',').map((part) => part.trim());
    if (parts.length < 6 || !/^\d+$/.test(parts[0]!)) continue;
    const [index, uuid, name, total, used, util] = parts as [string, string, string, string, string, string];
    gpus.push({
      index: Number(index),
      uuid,
      name,
      totalMiB: num(total) ?? 0,
      usedMiB: num(used) ?? 0,
      util: num(util),
    });
  }
  return gpus;
}

export function parseGpuProcesses(output: string): GpuProcess[] {
  const processes: GpuProcess[] = [];
  for (const line of output.split('\n')) {
    const [pid, uuid, used] = line.split(',').map((part) => part.trim());
    if (pid === undefined || uuid === undefined || !/^\d+$/.test(pid)) continue;
    processes.push({ pid: Number(pid), gpuUuid: uuid, usedMiB: num(used) ?? 0 });
  }
  return processes;
}

/**
 * The GPU-to-GPU part of `nvidia-smi topo -m`: for each pair, the link (X, NV#, PIX, PXB, PHB,
 * NODE, SYS). Rows and columns are named GPU0, GPU1...; other columns (NICs, affinity) are ignored.
 */
export function parseTopology(output: string): Map<number, Map<number, string>> {
  // nvidia-smi underlines the header with terminal escapes (ESC [ 4 m ... ESC [ 0 m).
  const escapes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
  const lines = output.split('\n').map((line) => line.replace(escapes, ''));
  const header = lines.find((line) => /^\s+GPU\d+/.test(line));
  const links = new Map<number, Map<number, string>>();
  if (header === undefined) return links;
  const columns = header.trim().split(/\s+/);
  for (const line of lines) {
    const match = /^GPU(\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const cells = match[2]!.trim().split(/\s+/);
    const row = new Map<number, string>();
    columns.forEach((column, i) => {
      const gpu = /^GPU(\d+)$/.exec(column);
      if (gpu !== null && cells[i] !== undefined) row.set(Number(gpu[1]), cells[i]!);
    });
    links.set(Number(match[1]), row);
  }
  return links;
}

/** Lower is closer: NVLink, then one PCIe switch, several, the host bridge, a NUMA node, across. */
export function linkCost(link: string | undefined): number {
  if (link === undefined) return 10;
  if (link === 'X') return 0;
  if (/^NV\d+$/.test(link)) return 1;
  return { PIX: 2, PXB: 3, PHB: 4, NODE: 5, SYS: 6 }[link] ?? 10;
}
