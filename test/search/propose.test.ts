// The proposer between the sweep file and the sampler: counts, determinism, resume, no repeats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProposer, type KnownRun } from '../../src/search/propose.js';
import { parseSweep } from '../../src/sweep-file/load.js';

const spec = (extra = '') =>
  parseSweep(
    `name: t
trainer: { command: [node, t.js] }
base: { steps: 5 }
grid:
  lr: { loguniform: [1e-6, 1e-3] }
  batch_size: [32, 64, 128]
  warmup: [100]
search: { strategy: tpe, samples: 6, seed: 1, metric: val/loss, mode: min, startup: 2 }
seeds: [7]
${extra}`,
    'sweep.yaml',
  );

function finish(
  run: { id: string; params: Record<string, unknown>; origin: string; ordinal: number },
  value: number,
): KnownRun {
  return {
    id: run.id,
    params: run.params,
    origin: run.origin as KnownRun['origin'],
    status: 'completed',
    ordinal: run.ordinal,
    value,
    step: null,
  };
}

describe('the TPE proposer', () => {
  it('proposes `samples` runs in all, random first, carrying base, fixed values and the seed', () => {
    const proposer = createProposer(spec())!;
    const runs: KnownRun[] = [];
    for (let i = 0; i < 6; i++) {
      const run = proposer.next(runs)!;
      assert.equal(run.ordinal, i);
      assert.equal(run.params.steps, 5);
      assert.equal(run.params.warmup, 100);
      assert.equal(run.params.seed, 7);
      assert.equal(run.origin, i < 2 ? 'random' : 'tpe');
      runs.push(finish(run, Math.abs(Math.log10(run.params.lr as number) + 4.5)));
    }
    assert.equal(proposer.next(runs), null);
    assert.equal(proposer.remaining(runs), 0);
    assert.equal(new Set(runs.map((r) => r.id)).size, 6);
  });

  it('is reproducible: the same finished runs give the same proposal, from a fresh proposer too', () => {
    const history: KnownRun[] = [];
    const a = createProposer(spec())!;
    for (let i = 0; i < 4; i++) {
      const run = a.next(history)!;
      history.push(finish(run, i));
    }
    const b = createProposer(spec())!;
    assert.deepEqual(a.next(history), b.next(history));
  });

  it('counts runs proposed before (queued, failed or running) and never proposes them again', () => {
    const proposer = createProposer(spec())!;
    const first = proposer.next([])!;
    const queued: KnownRun = { ...finish(first, 0), status: 'queued', value: null };
    const second = proposer.next([queued])!;
    assert.notEqual(second.id, first.id);
    assert.equal(proposer.remaining([queued, { ...finish(second, 0), status: 'failed', value: null }]), 4);
  });

  it('ignores the planned configurations in the count', () => {
    const proposer = createProposer(spec('configs:\n  - { name: a, lr: 1e-5, batch_size: 64, warmup: 100 }\n'))!;
    const config: KnownRun = {
      id: 'cfg',
      params: { lr: 1e-5, batch_size: 64, warmup: 100, steps: 5, seed: 7 },
      origin: 'config',
      status: 'completed',
      ordinal: 0,
      value: 1,
      step: null,
    };
    assert.equal(proposer.remaining([config]), 6);
    assert.equal(proposer.next([config])!.ordinal, 1);
  });
});
