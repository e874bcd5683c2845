import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { contrastiveLoss } from '../../src/trainer/loss.js';
import { makeRng } from '../../src/trainer/rng.js';
import { useBackend } from './fixtures.js';

before(useBackend);

/** The loss in float64 JS, the reference for values and numerical gradients. */
function loss64(img: number[], txt: number[], n: number, d: number, s: number): number {
  const norm = (x: number[]) => {
    const out = x.slice();
    for (let i = 0; i < n; i++) {
      let q = 0;
      for (let k = 0; k < d; k++) q += x[i * d + k]! ** 2;
      for (let k = 0; k < d; k++) out[i * d + k] = x[i * d + k]! / Math.sqrt(q);
    }
    return out;
  };
  const a = norm(img),
    b = norm(txt);
  const logit = (i: number, j: number) => {
    let z = 0;
    for (let k = 0; k < d; k++) z += a[i * d + k]! * b[j * d + k]!;
    return Math.exp(s) * z;
  };
  let li = 0,
    lt = 0;
  for (let i = 0; i < n; i++) {
    let si = 0,
      st = 0;
    for (let j = 0; j < n; j++) {
      si += Math.exp(logit(i, j));
      st += Math.exp(logit(j, i));
    }
    li += Math.log(si) - logit(i, i);
    lt += Math.log(st) - logit(i, i);
  }
  return (li / n + lt / n) / 2;
}

test('contrastive loss: value and gradients match a float64 numerical reference', () => {
  const n = 4,
    d = 3;
  const rng = makeRng(5);
  const img = Array.from({ length: n * d }, () => rng.normal());
  const txt = Array.from({ length: n * d }, () => rng.normal());
  const s = Math.log(1 / 0.07) - 1.5; // a moderate scale keeps float32 gradients well conditioned
  const [gi, gt, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    contrastiveLoss(a as tf.Tensor2D, b as tf.Tensor2D, c),
  )([tf.tensor2d(img, [n, d]), tf.tensor2d(txt, [n, d]), tf.scalar(s)]) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const value = contrastiveLoss(tf.tensor2d(img, [n, d]), tf.tensor2d(txt, [n, d]), tf.scalar(s)).dataSync()[0]!;
  assert.ok(Math.abs(value - loss64(img, txt, n, d, s)) < 1e-5, `loss ${value}`);
  const h = 1e-5;
  const check = (analytic: Float32Array | Int32Array | Uint8Array, bump: (k: number, e: number) => number) => {
    for (let k = 0; k < analytic.length; k++) {
      const num = (bump(k, h) - bump(k, -h)) / (2 * h);
      assert.ok(
        Math.abs(analytic[k]! - num) < 1e-4 + 1e-3 * Math.abs(num),
        `grad[${k}] ${analytic[k]} vs numerical ${num}`,
      );
    }
  };
  check(gi.dataSync(), (k, e) =>
    loss64(
      img.map((v, i) => (i === k ? v + e : v)),
      txt,
      n,
      d,
      s,
    ),
  );
  check(gt.dataSync(), (k, e) =>
    loss64(
      img,
      txt.map((v, i) => (i === k ? v + e : v)),
      n,
      d,
      s,
    ),
  );
  check(gs.dataSync(), (_k, e) => loss64(img, txt, n, d, s + e));
});

test('contrastive loss: chance level ln(n) for identical embeddings, near 0 for separated ones at scale 100', () => {
  const n = 6;
  const same = tf.ones([n, 4]) as tf.Tensor2D;
  assert.ok(Math.abs(contrastiveLoss(same, same, tf.scalar(Math.log(100))).dataSync()[0]! - Math.log(n)) < 1e-5);
  const eye = tf.eye(n) as tf.Tensor2D;
  assert.ok(contrastiveLoss(eye, eye, tf.scalar(Math.log(100))).dataSync()[0]! < 1e-6);
});
