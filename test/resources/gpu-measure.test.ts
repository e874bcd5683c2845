// The pieces of GPU measurement that need no GPU: nvidia-smi's output, the predictor, the packer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GpuMonitor, type GpuReading } from '../../src/resources/gpu-monitor.js';
import { buildSlots, groupGpus } from '../../src/resources/gpus.js';
import { linkCost, parseGpuProcesses, parseGpuStates, parseTopology } from '../../src/resources/nvidia-smi.js';
import { MemoryPredictor, memoryKey } from '../../src/resources/predictor.js';
import { MemoryPacker } from '../../src/orchestrator/memory-packing.js';
import { SlotAllocator } from '../../src/orchestrator/slot-allocator.js';
import { resourcesSchema } from '../../src/sweep-file/schema.js';

describe('nvidia-smi output', () => {
  it('parses the per-GPU and per-process queries, [N/A] included', () => {
    const gpus = parseGpuStates(
      '0, GPU-aaa, NVIDIA H100 80GB HBM3, 81559, 40123, 87\n1, GPU-bbb, NVIDIA H100 80GB HBM3, 81559, 3, [N/A]\n',
    );
    assert.deepEqual(gpus, [
      { index: 0, uuid: 'GPU-aaa', name: 'NVIDIA H100 80GB HBM3', totalMiB: 81559, usedMiB: 40123, util: 87 },
      { index: 1, uuid: 'GPU-bbb', name: 'NVIDIA H100 80GB HBM3', totalMiB: 81559, usedMiB: 3, util: null },
    ]);
    assert.deepEqual(parseGpuProcesses('1234, GPU-aaa, 40000\nNo running processes found\n'), [
      { pid: 1234, gpuUuid: 'GPU-aaa', usedMiB: 40000 },
    ]);
  });

  it('reads the GPU part of topo -m and ranks links', () => {
    const topo = parseTopology(
      '\tGPU0\tGPU1\tGPU2\tNIC0\tCPU Affinity\nGPU0\t X \tNV18\tSYS\tPIX\t0-47\nGPU1\tNV18\t X \tSYS\tSYS\t0-47\nGPU2\tSYS\tSYS\t X \tSYS\t48-95\nNIC0\tPIX\tSYS\tSYS\t X\n',
    );
    assert.equal(topo.get(0)?.get(1), 'NV18');
    assert.equal(topo.get(2)?.get(0), 'SYS');
    assert.equal(topo.has(3), false);
    assert.ok(linkCost('NV18') < linkCost('PIX') && linkCost('PIX') < linkCost('SYS'));
    const gpus = [0, 1, 2, 3].map((index) => ({ index, name: 'g', memoryMiB: 1 }));
    const matrix = new Map([
      [
        0,
        new Map([
          [3, 'NV4'],
          [1, 'SYS'],
          [2, 'SYS'],
        ]),
      ],
      [
        1,
        new Map([
          [2, 'NV4'],
          [3, 'SYS'],
        ]),
      ],
    ]);
    assert.deepEqual(
      groupGpus(gpus, 2, matrix).map((g) => g.map((x) => x.index)),
      [
        [0, 3],
        [1, 2],
      ],
    );
    assert.deepEqual(
      groupGpus(gpus, 2, null).map((g) => g.map((x) => x.index)),
      [
        [0, 1],
        [2, 3],
      ],
    );
  });
});

describe('MemoryPredictor', () => {
  it('same parameters apart from the seed: the measured peak', () => {
    const p = new MemoryPredictor();
    assert.deepEqual(p.predict({ lr: 1, seed: 1 }), { mib: null, basis: 'unknown', atLeastMiB: 0 });
    p.learn({ lr: 1, seed: 1 }, 5000);
    assert.deepEqual(p.predict({ lr: 1, seed: 7 }), { mib: 5000, basis: 'same-params', atLeastMiB: 0 });
    assert.equal(memoryKey({ b: 1, a: 2, seed: 3 }), memoryKey({ seed: 9, a: 2, b: 1 }));
  });

  it('fits over batch size per model, bounded by measured neighbours', () => {
    const p = new MemoryPredictor({ fitHeadroom: 0 });
    p.learn({ model: 'ViT-B-32', batch_size: 32, lr: 1 }, 3000);
    // One point: a smaller batch needs no more than it; a larger one is unknown.
    assert.equal(p.predict({ model: 'ViT-B-32', batch_size: 16, lr: 2 }).mib, 3000);
    assert.equal(p.predict({ model: 'ViT-B-32', batch_size: 64, lr: 2 }).mib, null);
    p.learn({ model: 'ViT-B-32', batch_size: 64, lr: 1 }, 5000);
    const at128 = p.predict({ model: 'ViT-B-32', batch_size: 128, lr: 3 });
    assert.equal(at128.basis, 'batch-fit');
    assert.equal(at128.mib, 9000);
    assert.equal(p.predict({ model: 'ViT-L-14', batch_size: 128 }).mib, null, 'another model tells nothing');
  });

  it('an out-of-memory is a lower bound that beats a stale or fitted prediction', () => {
    const p = new MemoryPredictor();
    p.learn({ lr: 1, seed: 1 }, 5000);
    p.learnOom({ lr: 1, seed: 2 }, 7000);
    assert.deepEqual(p.predict({ lr: 1, seed: 3 }), { mib: null, basis: 'unknown', atLeastMiB: 7000 });
    p.learn({ lr: 1, seed: 2 }, 7600);
    assert.deepEqual(p.predict({ lr: 1, seed: 3 }), { mib: 7600, basis: 'same-params', atLeastMiB: 7000 });
  });
});

describe('MemoryPacker', () => {
  const reading = (used: number[], procs: { pid: number; gpu: number; mib: number }[] = []): GpuReading => ({
    gpus: used.map((u, i) => ({ index: i, uuid: `u${i}`, name: 'g', totalMiB: 10000, usedMiB: u, util: 0 })),
    processes: procs.map((p) => ({ pid: p.pid, gpuUuid: `u${p.gpu}`, usedMiB: p.mib })),
  });

  it('places by predicted memory, best fit, counting foreign memory and runs still growing', async () => {
    let current = reading([6000, 0], [{ pid: 50, gpu: 0, mib: 6000 }]);
    const monitor = new GpuMonitor({ read: async () => current, ownerOf: (pid, leaders) => leaders.get(pid) ?? null });
    await monitor.poll();
    const slots = buildSlots(
      resourcesSchema.parse({ gpus: 'auto', pack: 'memory', max_runs_per_gpu: 4 }),
      [0, 1].map((index) => ({ index, name: 'g', memoryMiB: 10000 })),
      'x.yaml',
    );
    const predictor = new MemoryPredictor();
    predictor.learn({ size: 's' }, 3000);
    const packer = new MemoryPacker(slots, monitor, predictor, { marginMiB: 500, skipBusy: null });
    const allocator = new SlotAllocator(slots, packer);
    const take = (runPk: number, size: string) => allocator.acquire({ runPk, params: { size }, excludedGpus: [] });
    // GPU 0 has 3500 free (6000 foreign, 500 margin): the tightest fit for 3000.
    assert.equal((await take(1, 's'))?.gpu, 0);
    // GPU 0 would be overcommitted by run 1 growing into its 3000: the next goes to GPU 1.
    assert.equal((await take(2, 's'))?.gpu, 1);
    assert.equal((await take(3, 's'))?.gpu, 1);
    assert.equal((await take(4, 's'))?.gpu, 1);
    let fifth: number | null | undefined;
    void take(5, 's').then((slot) => (fifth = slot?.gpu));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fifth, undefined, 'no GPU has 3000 MiB free: it waits');
    // The foreign process goes away: the next sample frees GPU 0 and the waiting run is placed.
    current = reading([0, 0]);
    monitor.track(1, 101, [0]);
    allocator.release(
      [...allocator.inUse().entries()].map(([id]) => slots.find((s) => s.id === id)!).find((s) => s.gpu === 0)!,
    );
    await monitor.poll();
    allocator.wake();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fifth, 0);
  });

  it('an unknown run goes alone on the emptiest GPU; one like it waits for the measurement', async () => {
    const monitor = new GpuMonitor({ read: async () => reading([2000, 0]), ownerOf: () => null });
    await monitor.poll();
    const slots = buildSlots(
      resourcesSchema.parse({ gpus: 'auto', pack: 'memory', max_runs_per_gpu: 4 }),
      [0, 1].map((index) => ({ index, name: 'g', memoryMiB: 10000 })),
      'x.yaml',
    );
    const predictor = new MemoryPredictor();
    predictor.learn({ size: 'known' }, 1000);
    const packer = new MemoryPacker(slots, monitor, predictor, { marginMiB: 0, skipBusy: null });
    const allocator = new SlotAllocator(slots, packer);
    const first = await allocator.acquire({ runPk: 1, params: { size: 'new', seed: 1 }, excludedGpus: [] });
    assert.equal(first?.gpu, 1, 'the emptiest GPU');
    assert.equal(packer.placement(1)?.needMiB, null);
    let twin: number | null | undefined;
    void allocator
      .acquire({ runPk: 2, params: { size: 'new', seed: 2 }, excludedGpus: [] })
      .then((slot) => (twin = slot?.gpu));
    // A known run may not join the GPU being measured, but may use the other.
    assert.equal((await allocator.acquire({ runPk: 3, params: { size: 'known' }, excludedGpus: [] }))?.gpu, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(twin, undefined, 'waits for the first measurement');
    predictor.learn({ size: 'new', seed: 1 }, 4000);
    allocator.release(first!);
    await new Promise((resolve) => setImmediate(resolve));
    // Predicted now (4000): the tightest fit is GPU 0 (2000 foreign, 1000 for run 3).
    assert.equal(twin, 0);
  });
});
