// One poller for all GPUs: every few seconds, nvidia-smi's per-GPU query (memory, utilisation)
// and per-process query (pid, memory), each process matched to the run whose process group it is
// in (proc.ts). Memory of processes that are not the sweep's counts as used: other users' jobs.
import { queryGpuProcesses, queryGpuStates, type GpuProcess, type GpuState } from './nvidia-smi.js';
import { runOfProcess } from './proc.js';

export interface GpuReading {
  gpus: GpuState[];
  processes: GpuProcess[];
}

export interface GpuView {
  index: number;
  totalMiB: number;
  usedMiB: number;
  util: number | null;
  /** Of usedMiB, what each tracked run holds on this GPU. */
  runs: Map<number, number>;
  /** usedMiB minus the tracked runs' memory: other processes. */
  foreignMiB: number;
}

export interface RunUse {
  /** The most the run held on one of its GPUs in any sample (MiB); 0 when never seen. */
  peakMiB: number;
  /** Mean utilisation of its GPUs over its samples (percent), null when none. */
  utilMean: number | null;
  samples: number;
}

export interface GpuMonitorOptions {
  /** Reads the GPUs; default: nvidia-smi. Null when it cannot. */
  read?: () => Promise<GpuReading | null>;
  /** The run (key) a GPU process belongs to; default: its process group or ancestry in /proc. */
  ownerOf?: (pid: number, leaders: ReadonlyMap<number, number>) => number | null;
  intervalMs?: number;
  /** Called after every sample (to place waiting runs, to store samples). */
  onSample?: (views: readonly GpuView[]) => void;
}

interface Tracked {
  pid: number;
  gpus: readonly number[];
  peakMiB: number;
  utilSum: number;
  utilCount: number;
  samples: number;
}

export async function readNvidiaSmi(command = 'nvidia-smi'): Promise<GpuReading | null> {
  const [gpus, processes] = await Promise.all([queryGpuStates(command), queryGpuProcesses(command)]);
  return gpus === null ? null : { gpus, processes: processes ?? [] };
}

export class GpuMonitor {
  private readonly read: () => Promise<GpuReading | null>;
  private readonly ownerOf: (pid: number, leaders: ReadonlyMap<number, number>) => number | null;
  private readonly intervalMs: number;
  private readonly onSample: ((views: readonly GpuView[]) => void) | undefined;
  private readonly tracked = new Map<number, Tracked>();
  /**
   * Runs that ended but whose processes nvidia-smi may still list for a moment (the driver frees
   * their memory after the exit is seen): that memory is the sweep's own, draining, never another
   * user's. Counting it as foreign made a GPU look smaller than it is for good, so a run proved
   * too big for the other GPU was sent back there to run out of memory again.
   */
  private readonly ending = new Map<number, number>();
  private views = new Map<number, GpuView>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | null = null;

  constructor(options: GpuMonitorOptions = {}) {
    this.read = options.read ?? (() => readNvidiaSmi());
    this.ownerOf = options.ownerOf ?? ((pid, leaders) => runOfProcess(pid, leaders));
    this.intervalMs = options.intervalMs ?? 5000;
    this.onSample = options.onSample;
  }

  /** Takes a first sample, then one every interval. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** A run's child started on `gpus`: its processes are the run's from now on. */
  track(runPk: number, pid: number, gpus: readonly number[]): void {
    this.tracked.set(runPk, { pid, gpus, peakMiB: 0, utilSum: 0, utilCount: 0, samples: 0 });
  }

  /** The run ended: what it was measured to use. */
  untrack(runPk: number): RunUse | null {
    const run = this.tracked.get(runPk);
    if (run === undefined) return null;
    this.tracked.delete(runPk);
    this.ending.set(runPk, run.pid);
    return {
      peakMiB: run.peakMiB,
      utilMean: run.utilCount === 0 ? null : run.utilSum / run.utilCount,
      samples: run.samples,
    };
  }

  /** The latest sample of each GPU (undefined before the first, or when nvidia-smi failed). */
  gpu(index: number): GpuView | undefined {
    return this.views.get(index);
  }

  all(): GpuView[] {
    return [...this.views.values()];
  }

  /** What `runPk` holds on `gpu` now, as of the latest sample. */
  usage(runPk: number, gpu: number): number {
    return this.views.get(gpu)?.runs.get(runPk) ?? 0;
  }

  /** One sample now (a poll already under way is awaited instead). */
  poll(): Promise<void> {
    this.inFlight ??= this.sample().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async sample(): Promise<void> {
    const reading = await this.read();
    if (reading === null) return;
    const leaders = new Map<number, number>();
    for (const [runPk, run] of this.tracked) leaders.set(run.pid, runPk);
    for (const [runPk, pid] of this.ending) leaders.set(pid, runPk);
    const stillListed = new Set<number>();
    const byUuid = new Map(reading.gpus.map((g) => [g.uuid, g.index]));
    const views = new Map<number, GpuView>();
    for (const g of reading.gpus)
      views.set(g.index, {
        index: g.index,
        totalMiB: g.totalMiB,
        usedMiB: g.usedMiB,
        util: g.util,
        runs: new Map(),
        foreignMiB: g.usedMiB,
      });
    for (const process of reading.processes) {
      const gpu = byUuid.get(process.gpuUuid);
      const view = gpu === undefined ? undefined : views.get(gpu);
      if (view === undefined) continue;
      const runPk = this.ownerOf(process.pid, leaders);
      if (runPk === null || !(this.tracked.has(runPk) || this.ending.has(runPk))) continue;
      if (this.ending.has(runPk)) stillListed.add(runPk);
      view.runs.set(runPk, (view.runs.get(runPk) ?? 0) + process.usedMiB);
    }
    for (const view of views.values()) {
      let ours = 0;
      for (const mib of view.runs.values()) ours += mib;
      // Never below zero: the two queries are not taken at the same instant.
      view.foreignMiB = Math.max(0, view.usedMiB - ours);
    }
    for (const [runPk, run] of this.tracked) {
      run.samples++;
      for (const gpu of run.gpus) {
        const view = views.get(gpu);
        if (view === undefined) continue;
        run.peakMiB = Math.max(run.peakMiB, view.runs.get(runPk) ?? 0);
        if (view.util !== null) {
          run.utilSum += view.util;
          run.utilCount++;
        }
      }
    }
    for (const runPk of this.ending.keys()) if (!stillListed.has(runPk)) this.ending.delete(runPk);
    this.views = views;
    this.onSample?.([...views.values()]);
  }
}
