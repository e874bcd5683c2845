// The built-in model loaded from real-CLIP-layout safetensors files must compute what an
// independent PyTorch implementation computes (test/clip/reference/clip_ref.py): every naming,
// dtype and activation, on the same pixels and token ids.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readArch, type ClipArch } from '../../src/clip/arch.js';
import { loadClipWeights, type ClipWeights } from '../../src/clip/weights.js';
import { ClipModel, type ParamMap } from '../../src/trainer/model/clip.js';
import { makeBatch } from '../../src/trainer/batches.js';
import { l2normalize } from '../../src/trainer/loss.js';
import type { ImageCaptionSplit } from '../../src/trainer/data/types.js';
import { useBackend } from '../trainer/fixtures.js';
import { clipFixtures, readJson, type RefInputs, type RefOutputs } from './fixtures.js';

let root = '';
before(async () => {
  await useBackend();
  root = clipFixtures();
});

function inputSplit(inputs: RefInputs, contextLength: number): ImageCaptionSplit {
  const [n, c, h, w] = inputs.pixel_shape;
  assert.equal(c, 3);
  const images = new Float32Array(n * h * w * 3);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < 3; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          images[((i * h + y) * w + x) * 3 + ch] = inputs.pixels[((i * 3 + ch) * h + y) * w + x]!;
  const m = inputs.tokens.length;
  const tokens = new Int32Array(m * contextLength);
  inputs.tokens.forEach((row, i) => {
    assert.equal(row.length, contextLength);
    tokens.set(row, i * contextLength);
  });
  return {
    images,
    imageSize: h,
    count: n,
    tokens,
    contextLength,
    captionImage: new Int32Array(m),
    captions: inputs.tokens.map(() => ''),
    imageIds: [],
  };
}

/** The model's outputs in the reference's terms: normalised embeddings, scale, cosine logits. */
function run(w: ClipWeights, inputs: RefInputs): RefOutputs {
  const params: ParamMap = new Map();
  for (const m of w.mapping) params.set(m.internal, tf.variable(tf.tensor(w.params.get(m.internal)!, m.internalShape)));
  const model = new ClipModel(w.config, params);
  const split = inputSplit(inputs, w.config.contextLength);
  const n = split.count;
  const m = inputs.tokens.length;
  const seq = (k: number) => Int32Array.from({ length: k }, (_, i) => i);
  const fwd = { dropout: 0, dropoutSeed: 0 };
  const bi = makeBatch(split, w.config, 49407, seq(n), new Int32Array(n), null, null);
  const bt = makeBatch(split, w.config, 49407, new Int32Array(m), seq(m), null, null);
  const img = tf.tidy(() => l2normalize(model.encodeImage(bi.image, fwd)));
  const txt = tf.tidy(() => l2normalize(model.encodeText(bt.text, fwd)));
  const scale = Math.exp(params.get('logit_scale')!.dataSync()[0]!);
  const logits = tf.tidy(() => tf.mul(tf.matMul(img, txt, false, true), scale) as tf.Tensor2D);
  const out = {
    image_embeds: img.arraySync() as number[][],
    text_embeds: txt.arraySync() as number[][],
    logit_scale: scale,
    logits_per_image: logits.arraySync() as number[][],
  };
  bi.dispose();
  bt.dispose();
  tf.dispose([img, txt, logits]);
  model.dispose();
  for (const v of params.values()) v.dispose();
  return out;
}

function maxDiff(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  a.forEach((row, i) => {
    assert.equal(row.length, b[i]!.length);
    row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i]![j]!))));
  });
  return d;
}

/** Largest error over embeddings, cosine logits (logits / scale) and the scale (relative). */
function error(got: RefOutputs, want: RefOutputs): number {
  const cos = (o: RefOutputs) => o.logits_per_image.map((r) => r.map((v) => v / o.logit_scale));
  return Math.max(
    maxDiff(got.image_embeds, want.image_embeds),
    maxDiff(got.text_embeds, want.text_embeds),
    maxDiff(cos(got), cos(want)),
    Math.abs(got.logit_scale - want.logit_scale) / want.logit_scale,
  );
}

const tolerance = { f32: 1e-4, f16: 1e-3, bf16: 1e-2 } as const;

for (const act of ['gelu', 'quickgelu'] as const) {
  for (const naming of ['openclip', 'hf'] as const) {
    test(`${act}, ${naming} naming: F32, F16 and BF16 files match the PyTorch reference`, () => {
      const dir = path.join(root, act);
      const arch = readArch(path.join(dir, naming === 'openclip' ? 'open_clip_config.json' : 'config.json'));
      assert.equal(arch.config.quickGelu, act === 'quickgelu');
      const inputs = readJson<RefInputs>(path.join(dir, 'inputs.json'));
      const full = readJson<RefOutputs>(path.join(dir, 'expected-full.json'));
      for (const dtype of ['f32', 'f16', 'bf16'] as const) {
        const w = loadClipWeights(path.join(dir, `${naming}-${dtype}.safetensors`), arch);
        assert.equal(w.naming, naming);
        assert.equal(w.dtype, dtype.toUpperCase());
        const got = run(w, inputs);
        // Against the reference run on the very numbers stored in this file: only arithmetic
        // differs, so the 2e-5 aim applies to every dtype (a tanh GELU would miss it).
        const same = error(got, readJson<RefOutputs>(path.join(dir, `expected-${dtype}.json`)));
        assert.ok(same <= 2e-5, `${naming}-${dtype}: max error ${same} against the reference on the stored weights`);
        // Against the full-precision model: the tolerance per dtype.
        const vsFull = error(got, full);
        assert.ok(
          vsFull <= tolerance[dtype],
          `${naming}-${dtype}: max error ${vsFull} against full precision (tolerance ${tolerance[dtype]})`,
        );
        console.log(
          `# ${act} ${naming} ${dtype}: error ${same.toExponential(2)} vs the reference on stored weights, ${vsFull.toExponential(2)} vs full precision`,
        );
      }
    });
  }
}

test('the comparison can fail: the wrong activation is caught', () => {
  const dir = path.join(root, 'gelu');
  const arch: ClipArch = readArch(path.join(dir, 'open_clip_config.json'));
  const wrong: ClipArch = { ...arch, config: { ...arch.config, quickGelu: true } };
  const got = run(
    loadClipWeights(path.join(dir, 'openclip-f32.safetensors'), wrong),
    readJson<RefInputs>(path.join(dir, 'inputs.json')),
  );
  const e = error(got, readJson<RefOutputs>(path.join(dir, 'expected-f32.json')));
  assert.ok(e > 1e-3, `QuickGELU on exact-GELU weights should be far off, got ${e}`);
});
