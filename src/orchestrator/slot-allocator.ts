// Hands out the executor's slots. A run that cannot be placed now waits on a promise that a
// release (or a change in free GPU memory, see wake()) resolves; nothing polls. Which free slot a
// run gets is the placement policy's choice: the first slot it may use (fixed runs_per_gpu), or
// a GPU with room for its predicted memory (pack: memory, src/resources/packer.ts).
import { slotGpus, type Slot } from '../resources/gpus.js';

export interface SlotRequest {
  runPk: number;
  /** The run's parameters: the memory predictor's input. */
  params: Record<string, unknown>;
  /** GPUs the run ran out of memory on: never placed there again. */
  excludedGpus: readonly number[];
}

export interface PlacementPolicy {
  /** One of `free` for `request`, or undefined: the request waits for a release or a wake(). */
  choose(request: SlotRequest, free: readonly Slot[], busy: ReadonlyMap<string, SlotRequest>): Slot | undefined;
  /** Told when a slot is handed out and when it comes back (to keep reservations). */
  placed?(request: SlotRequest, slot: Slot): void;
  released?(request: SlotRequest, slot: Slot): void;
  /** Whether the run's last placement put it beside other processes (asked once, when it is settled). */
  wasShared?(runPk: number): boolean;
}

/** Today's rule: the first free slot, in the executor's order, on a GPU the run may use. */
export const firstFreeSlot: PlacementPolicy = {
  choose: (request, free) => free.find((slot) => usable(slot, request)),
};

export function usable(slot: Slot, request: SlotRequest): boolean {
  return slotGpus(slot).every((gpu) => !request.excludedGpus.includes(gpu));
}

interface Waiter {
  request: SlotRequest;
  resolve: (slot: Slot | null) => void;
}

export class SlotAllocator {
  private readonly slots: readonly Slot[];
  private readonly policy: PlacementPolicy;
  private readonly busy = new Map<string, SlotRequest>();
  private readonly waiters: Waiter[] = [];
  private closed = false;
  /**
   * Held while a request waits. A wait may end only by a wake() from an unref'd timer (the GPU
   * poller: "free memory changed"); without a handle of its own, Node would see an empty event
   * loop and exit 0 with runs still queued.
   */
  private keepAlive: NodeJS.Timeout | null = null;

  constructor(slots: readonly Slot[], policy: PlacementPolicy = firstFreeSlot) {
    this.slots = slots;
    this.policy = policy;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** True when a slot is free but none of the waiting requests may use it (they need other slots). */
  get starved(): boolean {
    return this.waiters.length > 0 && this.busy.size < this.slots.length;
  }

  /** The slots in use, with the request each holds. */
  inUse(): ReadonlyMap<string, SlotRequest> {
    return this.busy;
  }

  /** Resolves with a slot for `request` once one is free and suitable; null once closed. */
  acquire(request: SlotRequest): Promise<Slot | null> {
    if (this.closed) return Promise.resolve(null);
    // Requests already waiting go first (wake() tries them in order): a newcomer only takes what
    // none of them could use.
    return new Promise((resolve) => {
      this.waiters.push({ request, resolve });
      this.wake();
      this.holdWhileWaiting();
    });
  }

  release(slot: Slot): void {
    const request = this.busy.get(slot.id);
    if (request === undefined) return;
    this.busy.delete(slot.id);
    this.policy.released?.(request, slot);
    this.wake();
  }

  /** Tries the waiting requests again, in order (a release, or free GPU memory changed). */
  wake(): void {
    for (let i = 0; i < this.waiters.length;) {
      const waiter = this.waiters[i]!;
      const slot = this.place(waiter.request);
      if (slot === undefined) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      waiter.resolve(slot);
    }
    this.holdWhileWaiting();
  }

  /** Every waiting request resolves with null; later ones too (the sweep is stopping). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(null);
    this.holdWhileWaiting();
  }

  private holdWhileWaiting(): void {
    if (this.waiters.length > 0 && this.keepAlive === null) this.keepAlive = setInterval(() => undefined, 1 << 30);
    else if (this.waiters.length === 0 && this.keepAlive !== null) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  private place(request: SlotRequest): Slot | undefined {
    const free = this.slots.filter((slot) => !this.busy.has(slot.id));
    if (free.length === 0) return undefined;
    const slot = this.policy.choose(request, free, this.busy);
    if (slot === undefined) return undefined;
    this.busy.set(slot.id, request);
    this.policy.placed?.(request, slot);
    return slot;
  }
}
