import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { train, disposeParams } from '../../src/trainer/train.js';
import { memorySink } from '../../src/trainer/protocol.js';
import { loadCheckpoint, manifestPath } from '../../src/trainer/checkpoint.js';
import { bundle, params, useBackend } from './fixtures.js';

before(useBackend);

type Line = { step?: number; event?: string; metrics?: Record<string, number> };
const metricLines = (lines: Line[], key: string) =>
  lines.filter((l) => l.metrics && key in l.metrics).map((l) => [l.step!, l.metrics![key]!] as const);

test('overfits one small batch: loss near 0, recall@1 of 1', async () => {
  const data = bundle(8, 8);
  data.val = data.train; // evaluate on the very batch it trains on
  const sink = memorySink();
  const r = await train({
    params: params({
      steps: 120,
      schedule: 'const',
      warmup: 0,
      lr: 3e-3,
      weight_decay: 0,
      eval_every: 120,
      log_every: 20,
      train_eval_images: 8,
    }),
    bundle: data,
    sink,
    checkpointDir: null,
  });
  disposeParams(r.params);
  const losses = metricLines(sink.lines as Line[], 'train/loss');
  assert.ok(losses[0]![1] > 1, `first loss ${losses[0]![1]}`);
  assert.ok(r.summary['val/loss']! < 0.05, `final eval loss ${r.summary['val/loss']}`);
  assert.equal(r.summary['val/i2t_R@1'], 1);
  assert.equal(r.summary['val/t2i_R@1'], 1);
});

test('deterministic for a seed; a different seed differs', async () => {
  const run = async (seed: number) => {
    const sink = memorySink();
    const r = await train({
      params: params({ seed, steps: 4, augment: true, dropout: 0.1 }),
      bundle: bundle(),
      sink,
      checkpointDir: null,
    });
    const w = Array.from(r.params.get('text.proj')!.dataSync());
    disposeParams(r.params);
    return { losses: metricLines(sink.lines as Line[], 'train/loss').map(([, v]) => v), w };
  };
  const a = await run(3),
    b = await run(3),
    c = await run(4);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.w, b.w);
  assert.notDeepEqual(a.losses, c.losses);
});

test('checkpoint resume continues the same schedule: no jump in lr or step, same weights', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-resume-'));
  const p = params({ steps: 8, eval_every: 4, log_every: 1, augment: true });
  const full = memorySink();
  const rf = await train({ params: p, bundle: bundle(), sink: full, checkpointDir: null });
  // First attempt stops after 5 steps (as on SIGTERM) and saves `last`.
  const first = memorySink();
  const r1 = await train({ params: p, bundle: bundle(), sink: first, checkpointDir: dir, stopAfterSteps: 5 });
  assert.equal(r1.reason, 'interrupted');
  disposeParams(r1.params);
  const last = loadCheckpoint(manifestPath(dir, 'last'));
  assert.equal(last.manifest.state.step, 5);
  const second = memorySink();
  const r2 = await train({ params: p, bundle: bundle(), sink: second, checkpointDir: dir, resume: last });
  assert.equal(r2.reason, 'completed');
  const started = (second.lines as Line[]).find((l) => l.event === 'started') as Record<string, unknown>;
  assert.equal(started.resumed_from_step, 5);
  const joined = [...metricLines(first.lines as Line[], 'lr'), ...metricLines(second.lines as Line[], 'lr')];
  const lrFull = metricLines(full.lines as Line[], 'lr');
  assert.deepEqual(
    joined.map(([s]) => s),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.deepEqual(joined, lrFull);
  assert.deepEqual(
    [...metricLines(first.lines as Line[], 'train/loss'), ...metricLines(second.lines as Line[], 'train/loss')],
    metricLines(full.lines as Line[], 'train/loss'),
  );
  assert.deepEqual(
    Array.from(r2.params.get('visual.proj')!.dataSync()),
    Array.from(rf.params.get('visual.proj')!.dataSync()),
  );
  disposeParams(r2.params);
  disposeParams(rf.params);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('early stopping stops after `patience` evaluations without improvement and keeps the best checkpoint', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-es-'));
  const sink = memorySink();
  // A huge learning rate on the validation loss of unrelated data: it stops improving quickly.
  const r = await train({
    params: params({
      steps: 60,
      eval_every: 2,
      lr: 0.05,
      warmup: 0,
      schedule: 'const',
      early_stopping: { metric: 'val/loss', mode: 'min', patience: 2 },
    }),
    bundle: bundle(16, 8),
    sink,
    checkpointDir: dir,
  });
  disposeParams(r.params);
  assert.equal(r.reason, 'early_stop');
  assert.ok(r.step < 60);
  const finished = (sink.lines as Line[]).find((l) => l.event === 'finished') as Record<string, unknown>;
  assert.equal(finished.reason, 'early_stop');
  const best = loadCheckpoint(manifestPath(dir, 'best'));
  assert.equal(best.manifest.state.bestStep, r.summary.best_step);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('word dropout removes words but keeps <sot>, <eot> and the padding after it', async () => {
  const { makeBatch } = await import('../../src/trainer/batches.js');
  const { makeRng } = await import('../../src/trainer/rng.js');
  const data = bundle(8, 8);
  const config = { ...params().model, vocabSize: data.tokenizer.vocabSize };
  const imgs = Int32Array.from({ length: 8 }, (_, i) => i);
  const caps = Int32Array.from({ length: 8 }, (_, i) => 2 * i); // three-word captions
  const aug = { crop: false, cropScale: [1, 1] as [number, number], flip: false, wordDropout: 0.5 };
  const b = makeBatch(data.train, config, 2, imgs, caps, aug, makeRng(1));
  let dropped = 0;
  for (let i = 0; i < 8; i++) {
    const row = Array.from(b.text.idsJs.subarray(i * 8, i * 8 + 8));
    const e = row.indexOf(2);
    assert.equal(row[0], 1);
    assert.ok(e >= 1 && e <= 4, `eot at ${e}`);
    assert.ok(row.slice(e + 1).every((x) => x === 0));
    dropped += 4 - e;
  }
  assert.ok(dropped > 0);
  b.dispose();
});

test('a diverged run stops with reason "diverged" and records the non-finite loss', async () => {
  const data = bundle();
  data.train.images.fill(NaN); // as a blown-up model would produce: every loss is NaN
  const sink = memorySink();
  const r = await train({ params: params({ steps: 40 }), bundle: data, sink, checkpointDir: null });
  disposeParams(r.params);
  assert.equal(r.reason, 'diverged');
  assert.equal(r.step, 1);
  const lastLoss = metricLines(sink.lines as Line[], 'train/loss').at(-1)![1];
  assert.ok(Number.isNaN(lastLoss));
  assert.equal(
    ((sink.lines as Line[]).find((l) => l.event === 'finished') as Record<string, unknown>).reason,
    'diverged',
  );
});

test('a run resumed after its last step only re-evaluates and finishes with a summary', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-done-'));
  const p = params({ steps: 3 });
  disposeParams((await train({ params: p, bundle: bundle(), sink: memorySink(), checkpointDir: dir })).params);
  const sink = memorySink();
  const r = await train({
    params: p,
    bundle: bundle(),
    sink,
    checkpointDir: dir,
    resume: loadCheckpoint(manifestPath(dir, 'last')),
  });
  disposeParams(r.params);
  assert.equal(r.reason, 'completed');
  assert.equal(metricLines(sink.lines as Line[], 'train/loss').length, 0);
  assert.equal(typeof r.summary['val/loss'], 'number');
  fs.rmSync(dir, { recursive: true, force: true });
});
