// pack: memory. A run goes on a GPU where its predicted peak fits under what is free now: the
// GPU's total, minus everything in use (other users' processes included), minus what runs placed
// there are still expected to grow into, minus a margin. A run with no prediction starts alone on
// the emptiest GPU and is measured; a run like it (same parameters apart from seed) waits for
// that measurement instead of taking a second GPU alone. Among GPUs that fit, the tightest (best
// fit), which keeps large holes for large runs. The oldest run that cannot be placed holds the
// emptiest GPU it may use: no later run joins that GPU until it is placed there or elsewhere, so
// small runs backfilling the machine never starve a large (or unmeasured) one.
import type { GpuMonitor } from '../resources/gpu-monitor.js';
import { slotGpus, type Slot } from '../resources/gpus.js';
import { memoryKey, type MemoryPredictor } from '../resources/predictor.js';
import { usable, type PlacementPolicy, type SlotRequest } from './slot-allocator.js';

export interface PackingOptions {
  marginMiB: number;
  /** Skip a GPU none of the sweep's runs use while its utilisation is at least this (percent). */
  skipBusy: number | null;
}

export interface Placement {
  runPk: number;
  gpu: number;
  key: string;
  /** Predicted peak, or null: placed alone to be measured. */
  needMiB: number | null;
  /** What was free for it when it was placed (an out-of-memory proves it needs more). */
  hadMiB: number;
  /** Other processes (the sweep's or anyone's) held memory on its GPU when it was placed. */
  shared: boolean;
}

export class MemoryPacker implements PlacementPolicy {
  private readonly slots: readonly Slot[];
  private readonly monitor: GpuMonitor;
  private readonly predictor: MemoryPredictor;
  private readonly options: PackingOptions;
  private readonly placements = new Map<string, Placement>();
  private readonly byRun = new Map<number, Placement>();
  /** Kept past the release, until the attempt is settled (wasShared). */
  private readonly last = new Map<number, Placement>();

  constructor(slots: readonly Slot[], monitor: GpuMonitor, predictor: MemoryPredictor, options: PackingOptions) {
    this.slots = slots;
    this.monitor = monitor;
    this.predictor = predictor;
    this.options = options;
  }

  /** Set by pick(): the run waits for a run like it to be measured, not for room. */
  private awaitsMeasurement = false;
  /** The oldest waiting run that did not fit, and the GPU kept draining for it. */
  private hold: { runPk: number; gpu: number } | null = null;

  /** Where a run in flight was placed and why. */
  placement(runPk: number): Placement | undefined {
    return this.byRun.get(runPk) ?? this.last.get(runPk);
  }

  wasShared(runPk: number): boolean {
    const placement = this.last.get(runPk);
    this.last.delete(runPk);
    return placement?.shared ?? false;
  }

  choose(request: SlotRequest, free: readonly Slot[]): Slot | undefined {
    this.awaitsMeasurement = false;
    const slot = this.pick(request, free);
    if (slot !== undefined) {
      if (this.hold?.runPk === request.runPk) this.hold = null;
    } else if (this.hold === null && !this.awaitsMeasurement) {
      // Waiting for room (not for a measurement): keep a GPU draining for it.
      const gpu = this.emptiest(request);
      if (gpu !== null) this.hold = { runPk: request.runPk, gpu };
    }
    return slot;
  }

  private pick(request: SlotRequest, free: readonly Slot[]): Slot | undefined {
    const prediction = this.predictor.predict(request.params);
    const key = memoryKey(request.params);
    const candidates = this.candidates(request, free);
    if (candidates.length === 0) return undefined;
    const largestEmpty = this.capacity(request);
    const need = prediction.mib === null ? null : Math.max(prediction.mib, prediction.atLeastMiB + 1);
    if (need === null || need > largestEmpty) {
      // Unknown (or larger than any GPU could give): alone, on the emptiest GPU, once no run like
      // it is already being measured.
      if ([...this.placements.values()].some((p) => p.needMiB === null && p.key === key)) {
        this.awaitsMeasurement = true;
        return undefined;
      }
      const empty = candidates.filter((c) => c.ours === 0).sort((a, b) => b.freeMiB - a.freeMiB);
      // Where it was proved not to fit, only if nothing could ever give it more (then it is tried,
      // and an out-of-memory there moves it on or makes it infeasible, instead of waiting forever).
      const alone =
        empty.find((c) => c.freeMiB > prediction.atLeastMiB) ??
        (prediction.atLeastMiB >= largestEmpty ? empty[0] : undefined);
      if (alone === undefined) return undefined;
      this.pending = {
        runPk: request.runPk,
        gpu: alone.gpu,
        key,
        needMiB: null,
        hadMiB: alone.freeMiB,
        shared: alone.shared,
      };
      return alone.slot;
    }
    const fits = candidates.filter((c) => c.freeMiB >= need).sort((a, b) => a.freeMiB - b.freeMiB)[0];
    if (fits === undefined) return undefined;
    this.pending = {
      runPk: request.runPk,
      gpu: fits.gpu,
      key,
      needMiB: need,
      hadMiB: fits.freeMiB,
      shared: fits.shared,
    };
    return fits.slot;
  }

  placed(request: SlotRequest, slot: Slot): void {
    const placement = this.pending?.runPk === request.runPk ? this.pending : null;
    this.pending = null;
    if (placement === null || placement.gpu !== slot.gpu) return;
    this.placements.set(slot.id, placement);
    this.byRun.set(request.runPk, placement);
    this.last.set(request.runPk, placement);
  }

  released(request: SlotRequest, slot: Slot): void {
    this.placements.delete(slot.id);
    if (this.byRun.get(request.runPk)?.gpu === slot.gpu) this.byRun.delete(request.runPk);
  }

  /** What choose() decided, until the allocator confirms it with placed(). */
  private pending: Placement | null = null;

  /** The GPU the run may use with the least of the sweep's memory expected on it. */
  private emptiest(request: SlotRequest): number | null {
    let best: { gpu: number; room: number } | null = null;
    for (const slot of this.slots) {
      if (slot.gpu === null || !usable(slot, request)) continue;
      const view = this.monitor.gpu(slot.gpu);
      let room = (view?.totalMiB ?? slot.gpuMemoryMiB ?? 0) - (view?.foreignMiB ?? 0);
      for (const p of this.placements.values()) if (p.gpu === slot.gpu) room -= p.needMiB ?? Infinity;
      if (best === null || room > best.room) best = { gpu: slot.gpu, room };
    }
    return best?.gpu ?? null;
  }

  /** The most any GPU the run may use could give it with none of the sweep's runs on it. */
  private capacity(request: SlotRequest): number {
    let most = 0;
    for (const slot of this.slots) {
      if (slot.gpu === null || !usable(slot, request)) continue;
      const view = this.monitor.gpu(slot.gpu);
      most = Math.max(
        most,
        (view?.totalMiB ?? slot.gpuMemoryMiB ?? 0) - (view?.foreignMiB ?? 0) - this.options.marginMiB,
      );
    }
    return most;
  }

  /** Per GPU with a free slot the run may use: what is free now, and what an empty GPU would give. */
  private candidates(
    request: SlotRequest,
    free: readonly Slot[],
  ): { gpu: number; slot: Slot; freeMiB: number; ours: number; shared: boolean }[] {
    const seen = new Set<number>();
    const out: { gpu: number; slot: Slot; freeMiB: number; ours: number; shared: boolean }[] = [];
    for (const slot of free) {
      if (slot.gpu === null || slotGpus(slot).length !== 1 || seen.has(slot.gpu) || !usable(slot, request)) continue;
      seen.add(slot.gpu);
      const gpu = slot.gpu;
      const view = this.monitor.gpu(gpu);
      const total = view?.totalMiB ?? slot.gpuMemoryMiB ?? 0;
      const here = [...this.placements.values()].filter((p) => p.gpu === gpu);
      if (here.some((p) => p.needMiB === null)) continue; // a run being measured has it alone
      if (this.hold !== null && this.hold.gpu === gpu && this.hold.runPk !== request.runPk) continue; // draining for an older run
      if (this.options.skipBusy !== null && here.length === 0 && (view?.util ?? 0) >= this.options.skipBusy) continue;
      // Runs placed here but not yet at their predicted peak will still grow into it.
      let growing = 0;
      for (const p of here) growing += Math.max(0, (p.needMiB ?? 0) - this.monitor.usage(p.runPk, gpu));
      const used = view?.usedMiB ?? 0;
      out.push({
        gpu,
        slot,
        freeMiB: total - used - growing - this.options.marginMiB,
        ours: here.length,
        // A little memory is always in use (the driver, a display): 256 MiB is not "someone".
        shared: here.length > 0 || used > 256,
      });
    }
    return out;
  }
}
