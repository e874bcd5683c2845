// The slot allocator: waiting runs are placed by a release, in order, only on slots they may use.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Slot } from '../../src/resources/gpus.js';
import { SlotAllocator, type PlacementPolicy, type SlotRequest } from '../../src/orchestrator/slot-allocator.js';

const gpuSlot = (gpu: number, k = 0): Slot => ({ id: `gpu${gpu}.${k}`, gpu, gpuMemoryMiB: 1000 * (gpu + 1) });
const req = (runPk: number, excludedGpus: number[] = []): SlotRequest => ({ runPk, params: {}, excludedGpus });
/** Allocators made by a test; closed after it, so that requests left waiting let the process exit. */
const made: SlotAllocator[] = [];
class TestAllocator extends SlotAllocator {
  constructor(...args: ConstructorParameters<typeof SlotAllocator>) {
    super(...args);
    made.push(this);
  }
}
afterEach(() => {
  for (const allocator of made.splice(0)) allocator.close();
});

/** Lets pending promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What a pending acquire resolved with so far (undefined: still waiting). */
function track(promise: Promise<Slot | null>): { value(): Slot | null | undefined } {
  let value: Slot | null | undefined;
  void promise.then((slot) => (value = slot));
  return { value: () => value };
}

describe('SlotAllocator', () => {
  it("hands out free slots at once, in the executor's order", async () => {
    const allocator = new TestAllocator([gpuSlot(0), gpuSlot(1)]);
    assert.equal((await allocator.acquire(req(1)))?.id, 'gpu0.0');
    assert.equal((await allocator.acquire(req(2)))?.id, 'gpu1.0');
    assert.deepEqual([...allocator.inUse().keys()], ['gpu0.0', 'gpu1.0']);
  });

  it('makes a run wait until a slot is released, then hands it that slot', async () => {
    const slots = [gpuSlot(0)];
    const allocator = new TestAllocator(slots);
    await allocator.acquire(req(1));
    const waiting = track(allocator.acquire(req(2)));
    await settle();
    assert.equal(waiting.value(), undefined, 'no slot while the only one is busy');
    assert.equal(allocator.waiting, 1);
    allocator.release(slots[0]!);
    await settle();
    assert.equal(waiting.value()?.id, 'gpu0.0');
    assert.equal(allocator.waiting, 0);
  });

  it('serves waiting runs first come, first served', async () => {
    const slots = [gpuSlot(0)];
    const allocator = new TestAllocator(slots);
    await allocator.acquire(req(1));
    const order: number[] = [];
    const a = allocator.acquire(req(2)).then(() => order.push(2));
    const b = allocator.acquire(req(3)).then(() => order.push(3));
    allocator.release(slots[0]!);
    await a;
    allocator.release(slots[0]!);
    await b;
    assert.deepEqual(order, [2, 3]);
  });

  it('never places a run on a GPU it ran out of memory on; others may use that slot meanwhile', async () => {
    const slots = [gpuSlot(0), gpuSlot(1)];
    const allocator = new TestAllocator(slots);
    await allocator.acquire(req(1)); // gpu0
    await allocator.acquire(req(2)); // gpu1
    const needsBig = track(allocator.acquire(req(3, [0])));
    const any = track(allocator.acquire(req(4)));
    allocator.release(slots[0]!);
    await settle();
    assert.equal(needsBig.value(), undefined, 'GPU 0 is excluded for run 3');
    assert.equal(any.value()?.id, 'gpu0.0', 'run 4 takes the slot run 3 may not use');
    assert.equal(allocator.starved, false);
    allocator.release(slots[1]!);
    await settle();
    assert.equal(needsBig.value()?.id, 'gpu1.0');
  });

  it('reports a free slot no waiting run may use (starved)', async () => {
    const slots = [gpuSlot(0), gpuSlot(1)];
    const allocator = new TestAllocator(slots);
    await allocator.acquire(req(1, [0])); // takes gpu1
    void allocator.acquire(req(2, [0]));
    await settle();
    assert.equal(allocator.waiting, 1);
    assert.equal(allocator.starved, true);
  });

  it('resolves every waiting run, and later ones, with null once closed', async () => {
    const slots = [gpuSlot(0)];
    const allocator = new TestAllocator(slots);
    await allocator.acquire(req(1));
    const waiting = allocator.acquire(req(2));
    allocator.close();
    assert.equal(await waiting, null);
    assert.equal(await allocator.acquire(req(3)), null);
  });

  it('a release of a slot not in use changes nothing', async () => {
    const allocator = new TestAllocator([gpuSlot(0)]);
    allocator.release(gpuSlot(0));
    assert.equal(allocator.inUse().size, 0);
  });

  it('asks the placement policy, tells it of placements and releases, and retries on wake()', async () => {
    const slots = [gpuSlot(0), gpuSlot(1)];
    let allow = false;
    const log: string[] = [];
    const policy: PlacementPolicy = {
      choose: (_request, free) => (allow ? free[free.length - 1] : undefined),
      placed: (request, slot) => log.push(`placed ${request.runPk} ${slot.id}`),
      released: (request, slot) => log.push(`released ${request.runPk} ${slot.id}`),
    };
    const allocator = new TestAllocator(slots, policy);
    const first = track(allocator.acquire(req(7)));
    await settle();
    assert.equal(first.value(), undefined, 'the policy said no');
    allow = true;
    allocator.wake();
    await settle();
    assert.equal(first.value()?.id, 'gpu1.0');
    allocator.release(first.value()!);
    assert.deepEqual(log, ['placed 7 gpu1.0', 'released 7 gpu1.0']);
  });
});
