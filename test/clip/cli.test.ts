// Real CLIP weights end to end through the real CLI: a fine-tuning sweep that starts from a
// safetensors file (init: ...), and `sweep clip tokenize | embed | eval` as scripts use them.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cli, openStore, tempDir } from '../helpers.js';
import { cocoFixture } from '../trainer/fixtures.js';
import { readArch } from '../../src/clip/arch.js';
import { loadClipWeights } from '../../src/clip/weights.js';
import { readSafetensors } from '../../src/clip/safetensors.js';
import { loadClipTokenizer } from '../../src/clip/tokenizer/index.js';
import { clipFixtures, clipVocabFile, readJson, type RefOutputs } from './fixtures.js';

let dir = '';
let model = '';
let coco = '';
before(async () => {
  dir = tempDir('clipsweep-clipcli-');
  // A model folder as the hubs ship one: weights, config and tokenizer side by side.
  model = path.join(dir, 'model');
  fs.mkdirSync(model);
  for (const f of ['hf-f32.safetensors', 'config.json'])
    fs.copyFileSync(path.join(clipFixtures(), 'gelu', f), path.join(model, f));
  fs.copyFileSync(clipVocabFile(), path.join(model, 'bpe_simple_vocab_16e6.txt.gz'));
  coco = await cocoFixture(path.join(dir, 'coco'), 16, 8, 40);
});

test('a sweep fine-tunes from real CLIP weights and saves them back in their own format', async () => {
  const weights = path.join(model, 'hf-f32.safetensors');
  fs.writeFileSync(
    path.join(dir, 'sweep.yaml'),
    [
      'name: real-clip',
      'trainer: builtin',
      `base: { init: ${JSON.stringify(weights)}, dataset: ${JSON.stringify(coco)}, steps: 4, batch_size: 4, eval_every: 2, log_every: 1, eval_batch_size: 4, warmup: 1, lock: { image: true } }`,
      'grid: { lr: [1.0e-4, 1.0e-3] }',
      'resources: { gpus: none, cpu_slots: 2 }',
    ].join('\n'),
  );
  const r = await cli(['run', 'sweep.yaml', '--quiet'], { cwd: dir });
  assert.equal(r.exitCode, 0, r.all);
  const store = openStore(dir);
  const runs = store.listRuns(store.getSweep('real-clip').pk);
  assert.equal(runs.length, 2);
  const arch = readArch(path.join(model, 'config.json'));
  const original = readSafetensors(weights);
  for (const run of runs) {
    assert.equal(run.status, 'completed');
    const recall = store.series(run.pk, 'val/i2t_R@1');
    assert.ok(recall.length >= 3, `${run.id}: val/i2t_R@1 at steps 0, 2, 4`);
    const info = store.events(run.pk).find((e) => e.kind === 'info' && 'clip_weights' in e.payload);
    assert.equal(info?.payload.naming, 'hf');
    const ckpt = path.join(dir, 'runs', 'real-clip', run.id, 'checkpoints');
    for (const f of ['best.safetensors', 'final.safetensors'])
      assert.ok(fs.existsSync(path.join(ckpt, f)), `${run.id}: ${f}`);
    const tuned = loadClipWeights(path.join(ckpt, 'final.safetensors'), arch);
    assert.equal(tuned.naming, 'hf');
    const after = readSafetensors(path.join(ckpt, 'final.safetensors'));
    const same = (n: string) => Buffer.from(after.bytes(n)).equals(Buffer.from(original.bytes(n)));
    assert.ok(same('vision_model.encoder.layers.0.mlp.fc1.weight'), 'the locked image tower is untouched');
    assert.ok(!same('text_model.encoder.layers.0.mlp.fc1.weight'), 'the text tower was fine-tuned');
  }
  store.close();
});

test('sweep clip tokenize prints the tokenizer ids as JSON', async () => {
  const texts = ['a photo of a cat', "Two dogs &amp; 3 cats, don't they?"];
  const r = await cli(
    [
      'clip',
      'tokenize',
      '--vocab',
      clipVocabFile(),
      '--context-length',
      '12',
      '--json',
      ...texts.flatMap((t) => ['--text', t]),
    ],
    { cwd: dir },
  );
  assert.equal(r.exitCode, 0, r.all);
  const out = JSON.parse(r.stdout) as { tokens: number[][] };
  assert.deepEqual(out.tokens[0], [49406, 320, 1125, 539, 320, 2368, 49407, 0, 0, 0, 0, 0]);
  const tok = loadClipTokenizer({ bpeFile: clipVocabFile() }, 12);
  assert.deepEqual(out.tokens[1], Array.from(tok.encode(texts[1]!)));
});

test('sweep clip embed: normalised embeddings, the scale, logits = scale * cosine, and the tokens used', async () => {
  const images = fs
    .readdirSync(path.join(coco, 'val'))
    .slice(0, 3)
    .map((f) => path.join(coco, 'val', f));
  const texts = ['a red circle', 'a blue thing'];
  const r = await cli(
    [
      'clip',
      'embed',
      '--weights',
      path.join(model, 'hf-f32.safetensors'),
      '--json',
      ...images.flatMap((i) => ['--image', i]),
      ...texts.flatMap((t) => ['--text', t]),
    ],
    { cwd: dir },
  );
  assert.equal(r.exitCode, 0, r.all);
  const out = JSON.parse(r.stdout) as RefOutputs & { tokens: number[][] };
  assert.equal(out.image_embeds.length, 3);
  assert.equal(out.text_embeds.length, 2);
  for (const v of [...out.image_embeds, ...out.text_embeds]) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  const ref = readJson<RefOutputs>(path.join(clipFixtures(), 'gelu', 'expected-f32.json'));
  assert.ok(Math.abs(out.logit_scale - ref.logit_scale) < 1e-4, 'the scale is exp(ln scale) of the file');
  out.logits_per_image.forEach((row, i) =>
    row.forEach((v, j) => {
      const cos = out.image_embeds[i]!.reduce((s, x, k) => s + x * out.text_embeds[j]![k]!, 0);
      assert.ok(Math.abs(v - out.logit_scale * cos) < 1e-4);
    }),
  );
  const tok = loadClipTokenizer({ bpeFile: clipVocabFile() }, 16);
  assert.deepEqual(
    out.tokens,
    texts.map((t) => Array.from(tok.encode(t))),
  );
});

test('sweep clip eval prints retrieval both ways, consistent with the embeddings', async () => {
  const weights = path.join(model, 'hf-f32.safetensors');
  const r = await cli(['clip', 'eval', '--weights', weights, '--dataset', coco, '--json'], { cwd: dir });
  assert.equal(r.exitCode, 0, r.all);
  const m = JSON.parse(r.stdout) as Record<string, number>;
  assert.equal(m.images, 8);
  // Recompute image->text R@1 from `clip embed` on the same images and first captions.
  const ann = readJson<{
    images: { id: number; file_name: string }[];
    annotations: { id: number; image_id: number; caption: string }[];
  }>(path.join(coco, 'annotations', 'captions_val.json'));
  const imgs = [...ann.images].sort((a, b) => a.id - b.id);
  const first = imgs.map(
    (im) => ann.annotations.filter((a) => a.image_id === im.id).sort((a, b) => a.id - b.id)[0]!.caption,
  );
  const e = await cli(
    [
      'clip',
      'embed',
      '--weights',
      weights,
      '--json',
      ...imgs.flatMap((im) => ['--image', path.join(coco, 'val', im.file_name)]),
      ...first.flatMap((t) => ['--text', t]),
    ],
    { cwd: dir },
  );
  const out = JSON.parse(e.stdout) as RefOutputs;
  const hits = out.logits_per_image.filter((row, i) => row.every((v, j) => j === i || v < row[i]!)).length;
  assert.equal(m['val/i2t_R@1'], hits / imgs.length);
  for (const k of ['i2t_R@5', 'i2t_R@10', 't2i_R@1', 't2i_R@5', 't2i_R@10'])
    assert.ok(m[`val/${k}`]! >= 0 && m[`val/${k}`]! <= 1, k);
  const text = await cli(['clip', 'eval', '--weights', weights, '--dataset', coco], { cwd: dir });
  assert.match(text.stdout, /image->text: R@1 [\d.]+ {2}R@5 [\d.]+ {2}R@10 [\d.]+/);
  assert.match(text.stdout, /text->image: R@1 /);
});

test('bad weights or configs exit 2 with the file named', async () => {
  const bad = path.join(dir, 'bad.safetensors');
  fs.writeFileSync(bad, Buffer.from([1, 2, 3]));
  const r = await cli(
    [
      'clip',
      'embed',
      '--weights',
      bad,
      '--config',
      path.join(model, 'config.json'),
      '--vocab',
      clipVocabFile(),
      '--text',
      'x',
    ],
    { cwd: dir },
  );
  assert.equal(r.exitCode, 2, r.all);
  assert.match(r.stderr, /bad\.safetensors/);
  const none = await cli(['clip', 'embed', '--weights', path.join(dir, 'nope.safetensors'), '--text', 'x'], {
    cwd: dir,
  });
  assert.equal(none.exitCode, 2, none.all);
  assert.match(none.stderr, /nope\.safetensors/);
});

test('an unreadable --image is bad input: exit 2, one line naming the image, its cause kept', async () => {
  const weights = path.join(model, 'hf-f32.safetensors');
  const notImage = path.join(dir, 'notes.png');
  fs.writeFileSync(notImage, 'this is not a PNG\n');
  const r = await cli(['clip', 'embed', '--weights', weights, '--image', notImage, '--text', 'x'], { cwd: dir });
  assert.equal(r.exitCode, 2, r.all);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^sweep: .*notes\.png: cannot use this image/);
  const missing = await cli(['clip', 'embed', '--weights', weights, '--image', path.join(dir, 'gone.png')], {
    cwd: dir,
  });
  assert.equal(missing.exitCode, 2, missing.all);
  assert.match(missing.stderr, /gone\.png: cannot use this image \(missing file\)/);
});
