import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockContrastiveLoss, retrieval } from '../../src/trainer/retrieval.js';

test('recall and ranks on a hand-built similarity matrix', () => {
  // Image 0: its caption is best (rank 1). Image 1: caption 1 second (rank 2). Image 2: last (rank 3).
  const sim = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.5, 0.1, 0.7, 0.6, 0.0]);
  const r = retrieval(sim, 3);
  assert.deepEqual([r.i2t['R@1'], r.i2t['R@5']], [1 / 3, 1]);
  assert.equal(r.i2t.mean_rank, (1 + 2 + 3) / 3);
  assert.equal(r.i2t.median_rank, 2);
  // Columns: caption 0 -> image 0 best (rank 1); caption 1 -> 0.1, 0.5, 0.6: rank 2; caption 2 -> 0.2, 0.1, 0.0: rank 3.
  assert.equal(r.t2i['R@1'], 1 / 3);
  assert.equal(r.t2i.mean_rank, 2);
});

test('identity similarity gives recall 1 and rank 1', () => {
  const n = 12;
  const sim = new Float32Array(n * n);
  for (let i = 0; i < n; i++) sim[i * n + i] = 1;
  const r = retrieval(sim, n);
  for (const d of [r.i2t, r.t2i]) {
    assert.equal(d['R@1'], 1);
    assert.equal(d['R@10'], 1);
    assert.equal(d.median_rank, 1);
  }
});

test('R@10 counts ranks up to 10 on a reversed ordering', () => {
  const n = 20;
  const sim = new Float32Array(n * n);
  // Caption j scores j for every image: image i's match has rank n - i.
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sim[i * n + j] = j;
  const r = retrieval(sim, n);
  assert.equal(r.i2t['R@1'], 1 / n);
  assert.equal(r.i2t['R@5'], 5 / n);
  assert.equal(r.i2t['R@10'], 10 / n);
  assert.equal(r.i2t.median_rank, 10.5);
});

test('block loss: chance level ln(batch) for uniform similarities, and blocks are averaged', () => {
  const n = 8;
  const sim = new Float32Array(n * n).fill(0.3);
  assert.ok(Math.abs(blockContrastiveLoss(sim, n, 10, 4) - Math.log(4)) < 1e-9);
  assert.ok(Math.abs(blockContrastiveLoss(sim, n, 10, 8) - Math.log(8)) < 1e-9);
  // A trailing partial block is dropped: 8 pairs at batch 3 -> two blocks of 3.
  assert.ok(Math.abs(blockContrastiveLoss(sim, n, 10, 3) - Math.log(3)) < 1e-9);
});

test('a NaN similarity ranks last, never first', () => {
  const sim = new Float32Array(9).fill(NaN);
  const r = retrieval(sim, 3);
  assert.equal(r.i2t['R@1'], 0);
  assert.equal(r.t2i.mean_rank, 3);
});
