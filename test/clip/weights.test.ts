// Real CLIP weights files: load and save keep the file's layout (naming, dtypes, order, metadata,
// unused tensors), an untouched tensor stays bit-identical through fine-tuning, and bad files or
// configs fail with messages that name the file and the tensor.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readArch, parseArch } from '../../src/clip/arch.js';
import { loadClipWeights, saveClipWeights } from '../../src/clip/weights.js';
import { readSafetensors, writeSafetensors } from '../../src/clip/safetensors.js';
import { exportClipWeights, loadClipInit } from '../../src/trainer/clip-init.js';
import { train } from '../../src/trainer/train.js';
import { disposeParams } from '../../src/trainer/model/clip.js';
import type { DatasetBundle, ImageCaptionSplit } from '../../src/trainer/data/types.js';
import type { Tokenizer } from '../../src/model/tokenizer.js';
import { makeRng } from '../../src/trainer/rng.js';
import { memorySink } from '../../src/trainer/protocol.js';
import { params, useBackend } from '../trainer/fixtures.js';
import { clipFixtures, clipVocabFile } from './fixtures.js';

let root = '';
let tmp = '';
before(async () => {
  await useBackend();
  root = clipFixtures();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-weights-'));
});

const bytes = (file: string) => fs.readFileSync(file);

test('load then save without changes writes a byte-identical file (both namings, every dtype)', () => {
  for (const naming of ['openclip', 'hf']) {
    for (const dtype of ['f32', 'f16', 'bf16']) {
      const file = path.join(root, 'gelu', `${naming}-${dtype}.safetensors`);
      const w = loadClipWeights(file, readArch(path.join(root, 'gelu', 'config.json')));
      const out = path.join(tmp, `same-${naming}-${dtype}.safetensors`);
      saveClipWeights(out, w, w.params);
      assert.ok(bytes(out).equals(bytes(file)), `${naming}-${dtype}: the saved file differs from the loaded one`);
    }
  }
});

function captionSplit(tok: Tokenizer, count: number, seed: number, size: number): ImageCaptionSplit {
  const rng = makeRng(seed, 5);
  const images = new Float32Array(count * size * size * 3).map(() => rng.normal());
  const colours = ['red', 'green', 'blue', 'yellow'];
  const shapes = ['circle', 'square', 'star', 'triangle'];
  const captions = Array.from(
    { length: count },
    (_, i) => `a ${colours[i % 4]} ${shapes[Math.floor(i / 4) % 4]}, isn't it?`,
  );
  const L = tok.contextLength;
  const tokens = new Int32Array(count * L);
  captions.forEach((c, i) => tokens.set(tok.encode(c), i * L));
  return {
    images,
    imageSize: size,
    count,
    tokens,
    contextLength: L,
    captionImage: Int32Array.from({ length: count }, (_, i) => i),
    captions,
    imageIds: [],
  };
}

test('fine-tune a few steps with the image tower locked, save, load: the image tower is bit-identical, the text tower moved', async () => {
  const file = path.join(root, 'gelu', 'hf-f16.safetensors');
  const init = loadClipInit({
    init: file,
    modelConfig: path.join(root, 'gelu', 'config.json'),
    vocab: clipVocabFile(),
  });
  const size = init.loaded.manifest.config.imageSize;
  const bundle: DatasetBundle = {
    train: captionSplit(init.tokenizer, 16, 1, size),
    val: captionSplit(init.tokenizer, 8, 2, size),
    tokenizer: init.tokenizer,
    problems: [],
    description: 'test',
  };
  const r = await train({
    params: params({ lock: { image: true }, lr: 1e-2, warmup: 0, steps: 3, eval_every: 3, batch_size: 8 }),
    bundle,
    sink: memorySink(),
    checkpointDir: null,
    init: init.loaded,
  });
  assert.equal(r.reason, 'completed');
  const out = path.join(tmp, 'tuned-hf-f16.safetensors');
  exportClipWeights(init, r.params, out);
  disposeParams(r.params);

  const before = readSafetensors(file);
  const after = readSafetensors(out);
  assert.deepEqual(
    after.tensors.map((t) => [t.name, t.dtype, t.shape]),
    before.tensors.map((t) => [t.name, t.dtype, t.shape]),
  );
  assert.deepEqual(after.metadata, before.metadata);
  let changed = 0;
  for (const t of before.tensors) {
    const same = Buffer.from(after.bytes(t.name)).equals(Buffer.from(before.bytes(t.name)));
    if (t.name.startsWith('vision_model.') || t.name === 'visual_projection.weight')
      assert.ok(same, `${t.name} is in the locked tower but changed`);
    if (t.name.startsWith('text_model.encoder.')) changed += same ? 0 : 1;
  }
  assert.ok(changed > 0, 'no text-tower tensor changed: the fine-tuning did nothing');
  // The saved file loads again as the same architecture.
  const again = loadClipWeights(out, readArch(path.join(root, 'gelu', 'config.json')));
  assert.equal(again.naming, 'hf');
  assert.equal(again.dtype, 'F16');
});

test('a missing tensor, a shape that does not fit the config, and an unknown architecture are named', () => {
  const dir = path.join(root, 'gelu');
  const arch = readArch(path.join(dir, 'open_clip_config.json'));
  const src = readSafetensors(path.join(dir, 'openclip-f32.safetensors'));
  const keep = src.tensors.filter((t) => t.name !== 'visual.ln_post.bias');
  const missing = path.join(tmp, 'missing.safetensors');
  writeSafetensors(
    missing,
    keep.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: src.bytes(t.name) })),
    src.metadata,
  );
  assert.throws(
    () => loadClipWeights(missing, arch),
    (e: Error) => e.message.includes(missing) && e.message.includes('missing tensor visual.ln_post.bias'),
  );

  const wider = parseArch('wide.json', {
    embed_dim: arch.config.embedDim,
    vision_cfg: {
      image_size: arch.config.imageSize,
      patch_size: arch.config.patchSize,
      width: arch.config.width * 2,
      layers: arch.config.layers,
      head_width: arch.config.width / arch.config.heads,
    },
    text_cfg: {
      context_length: arch.config.contextLength,
      vocab_size: arch.config.vocabSize,
      width: arch.config.textWidth,
      heads: arch.config.textHeads,
      layers: arch.config.textLayers,
    },
  });
  assert.throws(
    () => loadClipWeights(path.join(dir, 'openclip-f32.safetensors'), wider),
    (e: Error) =>
      /tensor visual\.conv1\.weight has shape \[\d+,3,\d+,\d+\], the config wide\.json implies/.test(e.message),
  );

  const odd = path.join(tmp, 'odd.safetensors');
  writeSafetensors(odd, [{ name: 'encoder.weight', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }], null);
  assert.throws(
    () => loadClipWeights(odd, arch),
    (e: Error) =>
      e.message.includes(odd) && e.message.includes('unknown architecture') && e.message.includes('encoder.weight'),
  );
});

test('configs: unsupported options and other model types are refused by name', () => {
  const base = {
    embed_dim: 8,
    vision_cfg: { image_size: 16, patch_size: 8, width: 16, layers: 1, head_width: 8 },
    text_cfg: { context_length: 8, vocab_size: 100, width: 16, heads: 2, layers: 1 },
  };
  assert.equal(parseArch('a.json', base).config.heads, 2);
  assert.throws(
    () => parseArch('b.json', { ...base, vision_cfg: { ...base.vision_cfg, timm_model_name: 'resnet50' } }),
    /b\.json.*\n.*vision_cfg: unsupported option\(s\) timm_model_name/,
  );
  assert.throws(
    () => parseArch('c.json', { model_type: 'siglip', vision_config: {}, text_config: {} }),
    /c\.json: model_type "siglip" is not a CLIPModel/,
  );
  assert.throws(() => parseArch('d.json', { hello: 1 }), /d\.json: unknown architecture/);
  const hf = parseArch('e.json', {
    model_type: 'clip',
    projection_dim: 8,
    text_config: {
      hidden_size: 16,
      intermediate_size: 64,
      num_attention_heads: 2,
      num_hidden_layers: 1,
      max_position_embeddings: 8,
      vocab_size: 100,
      hidden_act: 'gelu',
    },
    vision_config: {
      hidden_size: 16,
      intermediate_size: 48,
      num_attention_heads: 2,
      num_hidden_layers: 1,
      image_size: 16,
      patch_size: 8,
      hidden_act: 'gelu',
    },
  });
  assert.equal(hf.config.mlpRatio, 3);
  assert.equal(hf.config.textMlpRatio, 4);
  assert.equal(hf.config.quickGelu, false);
});
