// The hand-written gradients of the speed-oriented layers against TF.js's own autodiff of the
// plain formulas (or, for lookups, a scatter-add computed in JS).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  attention,
  dense2d,
  embedTokens,
  gelu,
  layerNorm,
  selection,
  selectRows,
  transpose2d,
} from '../../src/trainer/model/ops.js';
import { makeRng } from '../../src/trainer/rng.js';
import { useBackend } from './fixtures.js';

before(useBackend);

const rng = makeRng(11);
const rand = (shape: number[]) =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );

function closeAll(a: tf.Tensor, b: tf.Tensor, tol = 1e-4) {
  assert.deepEqual(a.shape, b.shape);
  const x = a.dataSync(),
    y = b.dataSync();
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)), `[${i}] ${x[i]} vs ${y[i]}`);
}

/** Compares value and input gradients of f and its reference under a random output weighting. */
function compare(
  f: (...x: tf.Tensor[]) => tf.Tensor,
  ref: (...x: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  tol = 1e-4,
) {
  closeAll(f(...inputs), ref(...inputs), tol);
  const w = rand(f(...inputs).shape);
  const ga = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(f(...x), w)))(inputs);
  const gb = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(ref(...x), w)))(inputs);
  ga.forEach((g, i) => closeAll(g, gb[i]!, tol));
}

test('dense2d matches matMul + bias', () => {
  compare(dense2d, (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b!), [
    rand([5, 3]),
    rand([3, 4]),
    rand([4]),
  ]);
});

test('gelu matches the erf formula', () => {
  compare(gelu, (x) => tf.mul(tf.mul(x!, 0.5), tf.add(1, tf.erf(tf.div(x!, Math.SQRT2)))), [rand([7, 3])]);
});

test('layerNorm matches the moments formula', () => {
  compare(
    layerNorm,
    (x, g, b) => {
      const { mean, variance } = tf.moments(x!, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, 1e-5))), g!), b!);
    },
    [rand([6, 5]), rand([5]), rand([5])],
    2e-4,
  );
});

test('attention (causal and not) matches softmax(q k^T / sqrt d + mask) v', () => {
  const t = 4;
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
  for (const mask of [null, tf.tensor2d(m, [t, t])]) {
    const scale = 0.5;
    compare(
      (q, k, v) => attention(q!, k!, v!, mask, scale),
      (q, k, v) => {
        let s = tf.mul(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), scale);
        if (mask) s = tf.add(s, mask);
        return tf.matMul(tf.softmax(s) as tf.Tensor3D, v as tf.Tensor3D);
      },
      [rand([3, t, 2]), rand([3, t, 2]), rand([3, t, 2])],
    );
  }
});

test('selectRows and embedTokens: values are the rows, gradients the scatter-add', () => {
  const table = rand([5, 3]);
  const idx = [4, 1, 4, 0];
  const { sel, selT } = selection(idx, 5);
  const w = rand([4, 3]);
  const expected = new Float32Array(15);
  const wd = w.dataSync();
  idx.forEach((r, i) => {
    for (let k = 0; k < 3; k++) expected[r * 3 + k]! += wd[i * 3 + k]!;
  });
  for (const f of [
    (t: tf.Tensor) => selectRows(t, sel, selT),
    (t: tf.Tensor) => embedTokens(t, tf.tensor1d(idx, 'int32'), Int32Array.from(idx)),
  ]) {
    const td = table.dataSync();
    const v = f(table).dataSync();
    idx.forEach((r, i) => {
      for (let k = 0; k < 3; k++) assert.equal(v[i * 3 + k], td[r * 3 + k]);
    });
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))([table]);
    closeAll(g!, tf.tensor(expected, [5, 3]));
  }
});

test('transpose2d equals tf.transpose on both of its paths', () => {
  for (const shape of [
    [5, 3],
    [512, 6],
  ]) {
    const x = rand(shape) as tf.Tensor2D;
    assert.deepEqual(Array.from(transpose2d(x).dataSync()), Array.from(tf.transpose(x).dataSync()));
  }
});
