// The dry-run estimate: durations from earlier runs, laid over the slots in plan order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateSweep } from '../../src/plan/estimate.js';
import type { Slot } from '../../src/resources/gpus.js';

const gpu = (i: number): Slot => ({ id: `gpu${i}.0`, gpu: i });

describe('estimateSweep', () => {
  it('says it cannot without completed runs', () => {
    assert.deepEqual(estimateSweep([{ name: 'a', params: {} }], [gpu(0)], []), {
      ok: false,
      why: 'no completed run of the same trainer to estimate from',
    });
  });

  it('takes the same parameters apart from seed, else the same batch size, else the mean', () => {
    const past = [
      { params: { lr: 1, batch_size: 32, seed: 0 }, seconds: 100 },
      { params: { lr: 1, batch_size: 32, seed: 1 }, seconds: 200 },
      { params: { lr: 2, batch_size: 64, seed: 0 }, seconds: 600 },
    ];
    const estimate = estimateSweep(
      [
        { name: 'same', params: { lr: 1, batch_size: 32, seed: 5 } },
        { name: 'batch', params: { lr: 9, batch_size: 64 } },
        { name: 'other', params: { lr: 9, batch_size: 16 } },
      ],
      [gpu(0), gpu(1)],
      past,
    );
    assert.ok(estimate.ok);
    if (!estimate.ok) return;
    assert.deepEqual(estimate.runs, [
      { name: 'same', seconds: 150, basis: 'same-params' },
      { name: 'batch', seconds: 600, basis: 'same-batch' },
      { name: 'other', seconds: 300, basis: 'mean' },
    ]);
    // gpu0: 150 then 300 (free first) = 450; gpu1: 600.
    assert.equal(estimate.wallClockSeconds, 600);
    assert.equal(estimate.slotSeconds, 1050);
    assert.equal(estimate.gpuSeconds, 1050);
  });

  it('counts every GPU of a multi-GPU slot and none of a CPU slot', () => {
    const past = [{ params: {}, seconds: 10 }];
    const multi = estimateSweep([{ name: 'a', params: {} }], [{ id: 'gpu0+1.0', gpu: 0, gpus: [0, 1] }], past);
    assert.equal(multi.ok && multi.gpuSeconds, 20);
    const cpu = estimateSweep([{ name: 'a', params: {} }], [{ id: 'cpu0', gpu: null }], past);
    assert.equal(cpu.ok && cpu.gpuSeconds, 0);
  });
});
