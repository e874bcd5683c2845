// GPU measurement for a sweep on the local executor: the poller (one for all GPUs), what each run
// was measured to use (stored when it ends), per-GPU samples stored at a low rate for the report,
// and for pack: memory the predictor (taught by earlier runs of the same trainer, then by this
// sweep's) and the packing policy.
import type { RunOutcome } from '../executor/types.js';
import { GpuMonitor, type GpuMonitorOptions, type GpuView } from '../resources/gpu-monitor.js';
import { slotGpus, type Slot } from '../resources/gpus.js';
import { MemoryPredictor } from '../resources/predictor.js';
import type { Resources } from '../sweep-file/schema.js';
import type { SweepStore } from '../store/interfaces.js';
import { MemoryPacker } from './memory-packing.js';
import type { AttemptObserver } from './run-queue.js';
import { firstFreeSlot, type PlacementPolicy } from './slot-allocator.js';

export interface GpuUse {
  monitor: GpuMonitor;
  predictor: MemoryPredictor;
  placement: PlacementPolicy;
  observer: AttemptObserver;
  /** Registers what to call when free GPU memory may have changed (the allocator's wake). */
  onChange(wake: () => void): void;
  close(): Promise<void>;
}

export interface GpuUseOptions {
  store: SweepStore;
  sweepPk: number;
  resources: Resources;
  /** The trainer as stored in sweeps' specs: runs of the same trainer teach the predictor. */
  trainer: unknown;
  slots: readonly Slot[];
  /** For tests and the simulator: how GPUs are read and processes matched. */
  monitor?: Omit<GpuMonitorOptions, 'onSample' | 'intervalMs'>;
  now?: () => number;
}

/** "50%" or 50 -> 50; undefined -> null. */
export function percent(value: number | string | undefined): number | null {
  if (value === undefined) return null;
  return typeof value === 'number' ? value : Number(value.replace('%', ''));
}

export function trainerOf(spec: unknown): string {
  return JSON.stringify((spec as { trainer?: unknown } | null)?.trainer ?? null);
}

/** Null when no slot has a GPU: nothing to measure. */
export async function startGpuUse(options: GpuUseOptions): Promise<GpuUse | null> {
  const { store, sweepPk, resources, slots } = options;
  if (!slots.some((slot) => slot.gpu !== null)) return null;
  const now = options.now ?? Date.now;
  const predictor = new MemoryPredictor();
  const trainer = JSON.stringify(options.trainer ?? null);
  for (const run of store.measuredRuns()) {
    if (trainerOf(run.spec) !== trainer) continue;
    if (run.peakMiB !== null && run.status === 'completed') predictor.learn(run.params, run.peakMiB);
    if (run.needMinMiB !== null) predictor.learnOom(run.params, run.needMinMiB);
  }
  const recordMs = resources.gpu_record_ms ?? 30_000;
  let lastRecorded = -Infinity;
  let wake: () => void = () => {};
  const record = (views: readonly GpuView[]): void => {
    const t = now();
    if (t - lastRecorded < recordMs) return;
    lastRecorded = t;
    store.addGpuSamples(
      sweepPk,
      views.map((v) => ({
        gpu: v.index,
        at: t / 1000,
        totalMiB: v.totalMiB,
        usedMiB: v.usedMiB,
        sweepMiB: v.usedMiB - v.foreignMiB,
        util: v.util,
      })),
    );
  };
  const monitor = new GpuMonitor({
    ...options.monitor,
    intervalMs: resources.gpu_poll_ms ?? 5000,
    onSample: (views) => {
      record(views);
      wake();
    },
  });
  await monitor.start();

  const skipBusy = percent(resources.skip_busy);
  const packer =
    resources.pack === 'memory'
      ? new MemoryPacker(slots, monitor, predictor, { marginMiB: resources.memory_margin_mib ?? 1024, skipBusy })
      : null;
  const placement: PlacementPolicy =
    packer ??
    (skipBusy === null
      ? firstFreeSlot
      : {
          // Fixed runs per GPU, but not on a GPU someone else keeps busy.
          choose: (request, free, busy) => {
            const ours = new Set([...busy.keys()].map((id) => slots.find((s) => s.id === id)?.gpu));
            return firstFreeSlot.choose(
              request,
              free.filter((s) => s.gpu === null || ours.has(s.gpu) || (monitor.gpu(s.gpu)?.util ?? 0) < skipBusy),
              busy,
            );
          },
        });

  const observer: AttemptObserver = {
    started: (runPk, slot, pid) => monitor.track(runPk, pid, slotGpus(slot)),
    ended: (runPk, slot, outcome) => learn(runPk, slot, outcome),
  };
  const learn = (runPk: number, slot: Slot, outcome: RunOutcome): void => {
    const use = monitor.untrack(runPk);
    if (use !== null && use.samples > 0) store.recordGpuUse(runPk, use.peakMiB, use.utilMean);
    const params = store.getRun(runPk).params;
    if (outcome.status === 'completed' && use !== null && use.peakMiB > 0) predictor.learn(params, use.peakMiB);
    if (outcome.status === 'failed' && outcome.kind === 'oom') {
      // It had this much and it was not enough.
      const had = packer?.placement(runPk)?.hadMiB ?? slot.gpuMemoryMiB ?? 0;
      const atLeast = Math.max(had, use?.peakMiB ?? 0);
      if (atLeast > 0) {
        store.recordGpuNeed(runPk, atLeast);
        predictor.learnOom(params, atLeast);
      }
    }
  };
  return {
    monitor,
    predictor,
    placement,
    observer,
    onChange: (fn) => {
      wake = fn;
    },
    close: async () => {
      await monitor.stop();
      // The last state of each GPU, whatever the rate.
      lastRecorded = -Infinity;
      const views = monitor.all();
      if (views.length > 0) record(views);
    },
  };
}
