import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamW, clipGradNorm, MAX_LOG_SCALE, openClipAdamW } from '../../src/trainer/optim.js';
import { decays, initParams, type ParamMap } from '../../src/trainer/model/clip.js';
import { presets } from '../../src/model/config.js';
import { useBackend } from './fixtures.js';

before(useBackend);

function params(entries: [string, number[], number[]][]): ParamMap {
  return new Map(entries.map(([n, shape, v]) => [n, tf.variable(tf.tensor(v, shape), true)]));
}

test('decay exclusions: rank >= 2 only; no biases, layer norms, class embedding or logit scale', () => {
  const all = initParams({ ...presets.micro!, vocabSize: 14 }, 0);
  const decayed = [...all].filter(([n, p]) => decays(n, p.shape)).map(([n]) => n);
  const kept = [...all].filter(([n, p]) => !decays(n, p.shape)).map(([n]) => n);
  for (const n of kept) assert.ok(/ln|\.b$|visual\.class|logit_scale/.test(n), `${n} should decay`);
  for (const n of decayed) assert.equal(all.get(n)!.shape.length >= 2, true, n);
  assert.ok(decayed.includes('visual.patch.w') && decayed.includes('text.token') && decayed.includes('text.proj'));
  assert.ok(
    kept.includes('visual.class') &&
      kept.includes('logit_scale') &&
      kept.includes('text.ln_final.g') &&
      kept.includes('visual.blocks.0.attn.qkv.b'),
  );
});

test('AdamW: one step equals torch.optim.AdamW with decoupled decay on matrices only', () => {
  const p = params([
    ['w', [2, 2], [1, -2, 3, 0.5]],
    ['b', [2], [1, -1]],
  ]);
  const opt = new AdamW(p, openClipAdamW(0.2));
  const lr = 0.01;
  const g = { w: [0.1, -0.3, 0.0, 2.0], b: [0.5, 0.0] };
  const ref = (x: number, gr: number, decay: boolean) => {
    // torch: p *= 1 - lr*wd; m = (1-b1) g; v = (1-b2) g^2; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
    const y = decay ? x * (1 - lr * 0.2) : x;
    const m = 0.1 * gr,
      v = 0.02 * gr * gr;
    return y - (lr / 0.1) * (m / (Math.sqrt(v) / Math.sqrt(0.02) + 1e-6));
  };
  opt.step({ w: tf.tensor(g.w, [2, 2]), b: tf.tensor(g.b, [2]) }, lr);
  const w = p.get('w')!.dataSync(),
    b = p.get('b')!.dataSync();
  [1, -2, 3, 0.5].forEach((x, i) => assert.ok(Math.abs(w[i]! - ref(x, g.w[i]!, true)) < 1e-6, `w[${i}]`));
  [1, -1].forEach((x, i) => assert.ok(Math.abs(b[i]! - ref(x, g.b[i]!, false)) < 1e-6, `b[${i}]`));
  // With a zero gradient only the decay acts: exactly p * (1 - lr * wd), and nothing on the bias.
  assert.ok(Math.abs(w[2]! - 3 * (1 - lr * 0.2)) < 1e-6);
  assert.equal(b[1], -1);
});

test('logit scale is clamped to [0, ln 100] after every step', () => {
  const p = params([['logit_scale', [], [MAX_LOG_SCALE - 1e-4]]]);
  const opt = new AdamW(p, openClipAdamW(0.1));
  opt.step({ logit_scale: tf.scalar(-1) }, 0.5); // pushes the scale up
  assert.ok(Math.abs(p.get('logit_scale')!.dataSync()[0]! - MAX_LOG_SCALE) < 1e-6);
  assert.ok(Math.exp(p.get('logit_scale')!.dataSync()[0]!) <= 100 + 1e-4);
  p.get('logit_scale')!.assign(tf.scalar(0.01));
  opt.step({ logit_scale: tf.scalar(1) }, 0.5); // pushes it below 0
  assert.equal(p.get('logit_scale')!.dataSync()[0], 0);
});

test('grad-norm clipping scales to the max norm and leaves small gradients alone', () => {
  const big = clipGradNorm({ a: tf.tensor([3, 0]), b: tf.tensor([4]) }, 1);
  assert.ok(Math.abs(big.norm - 5) < 1e-6);
  const a = big.grads.a!.dataSync(),
    b = big.grads.b!.dataSync();
  assert.ok(Math.abs(Math.hypot(a[0]!, a[1]!, b[0]!) - 1) < 1e-5);
  const small = clipGradNorm({ a: tf.tensor([0.3]) }, 1);
  assert.equal(small.grads.a!.dataSync()[0], Math.fround(0.3));
});
