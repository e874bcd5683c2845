import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRETRAIN_SIZES, runPretrain, shippedBaseDir } from '../../src/trainer/pretrain.js';
import { CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE } from '../../src/trainer/base-export.js';
import { evalRetrieval, openClip } from '../../src/trainer/clip-inference.js';
import sharp from 'sharp';
import { DEFAULT_EMBEDDED_SIZES, embeddedDirName } from '../../src/trainer/data/embedded/generate.js';
import { drawScenes } from '../../src/trainer/data/embedded/scene.js';
import { captionsFor } from '../../src/trainer/data/embedded/captions.js';
import { renderScene } from '../../src/trainer/data/embedded/render.js';
import { loadCheckpoint } from '../../src/trainer/checkpoint.js';
import { useBackend } from './fixtures.js';

before(useBackend);

const small = { pretrainTrain: 48, pretrainVal: 16, finetuneTrain: 16, finetuneVal: 16 };
const recipe = { epochs: 1, batch_size: 16, warmup: 1, eval_every: 100, log_every: 1 };

test('runPretrain builds the base model once, caches it, and is deterministic', async () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-pre-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-pre-b-'));
  const lines: string[] = [];
  const first = await runPretrain({
    runsDir: a,
    preset: 'micro',
    recipe,
    embeddedSizes: small,
    log: (l) => lines.push(l),
  });
  assert.ok(first.checkpointPath.startsWith(path.join(a, 'models')));
  assert.ok(lines.some((l) => l.includes('base model written')));
  const mtime = fs.statSync(first.checkpointPath).mtimeMs;
  const again = await runPretrain({ runsDir: a, preset: 'micro', recipe, embeddedSizes: small });
  assert.equal(again.checkpointPath, first.checkpointPath);
  assert.equal(fs.statSync(again.checkpointPath).mtimeMs, mtime, 'cached, not rebuilt');
  const other = await runPretrain({ runsDir: b, preset: 'micro', recipe, embeddedSizes: small });
  const [ca, cb] = [loadCheckpoint(first.checkpointPath), loadCheckpoint(other.checkpointPath)];
  assert.equal(ca.manifest.state.step, 3);
  assert.deepEqual(
    Array.from(ca.tensors.get('p:text.proj')!.dataSync()),
    Array.from(cb.tensors.get('p:text.proj')!.dataSync()),
  );
  assert.ok(ca.manifest.vocab.length > 4);
  for (const d of [a, b]) fs.rmSync(d, { recursive: true, force: true });
});

/** The last evaluation in a pretraining metrics.jsonl. */
function lastEval(file: string): Record<string, number> {
  const lines = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; metrics: Record<string, number> });
  return lines.filter((l) => 'val/i2t_R@1' in l.metrics).at(-1)!.metrics;
}

test("a shortened `sweep pretrain` rebuild is deterministic, and its OpenCLIP export loads and evaluates to the trainer's R@1", async () => {
  const dirs = [0, 1].map((i) => fs.mkdtempSync(path.join(os.tmpdir(), `clipsweep-pre-x${i}-`)));
  const exported = dirs.map((d) => path.join(d, 'export'));
  for (const [i, d] of dirs.entries()) {
    await runPretrain({
      runsDir: d,
      preset: 'micro',
      recipe,
      embeddedSizes: small,
      exportDir: exported[i]!,
      force: true,
    });
  }
  const bytes = exported.map((e) => fs.readFileSync(path.join(e, WEIGHTS_FILE)));
  assert.ok(bytes[0]!.equals(bytes[1]!), 'the same recipe on the same backend writes the same bytes');
  for (const f of [CONFIG_FILE, VOCAB_FILE, 'metrics.jsonl']) assert.ok(fs.existsSync(path.join(exported[0]!, f)), f);
  const clip = openClip({ weights: path.join(exported[0]!, WEIGHTS_FILE) });
  try {
    assert.equal(clip.init.weights.naming, 'openclip');
    const data = path.join(
      dirs[0]!,
      'cache',
      embeddedDirName(clip.model.config.imageSize, { ...DEFAULT_EMBEDDED_SIZES, ...small }),
      'pretrain',
    );
    const r = await evalRetrieval(clip, data, { batchSize: 32 });
    const trained = lastEval(path.join(exported[0]!, 'metrics.jsonl'));
    for (const key of ['val/i2t_R@1', 'val/i2t_R@5', 'val/t2i_R@1']) assert.equal(r.metrics[key], trained[key], key);
  } finally {
    clip.dispose();
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * The pretraining domain's validation split exactly as the recipe's data set has it (its image ids,
 * and so its captions, follow the 16,000 training images), without rendering those.
 */
async function pretrainVal(dir: string, imageSize: number): Promise<string> {
  const scenes = drawScenes('pretrain', 'val', PRETRAIN_SIZES.pretrainVal, PRETRAIN_SIZES.pretrainTrain + 1);
  fs.mkdirSync(path.join(dir, 'val'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'annotations'), { recursive: true });
  const images = scenes.map((s) => ({
    id: s.imageId,
    file_name: `${s.imageId}.png`,
    width: imageSize,
    height: imageSize,
  }));
  let id = 1;
  const annotations = scenes.flatMap((s) =>
    captionsFor(s, 'pretrain', 'val').map((caption) => ({ id: id++, image_id: s.imageId, caption })),
  );
  for (const [i, s] of scenes.entries()) {
    await sharp(renderScene(s, imageSize), { raw: { width: imageSize, height: imageSize, channels: 3 } })
      .png()
      .toFile(path.join(dir, 'val', images[i]!.file_name));
  }
  fs.writeFileSync(path.join(dir, 'annotations', 'captions_val.json'), JSON.stringify({ images, annotations }));
  return dir;
}

test('the shipped base model loads as OpenCLIP weights and evaluates to its documented R@1', async () => {
  const shipped = shippedBaseDir('tiny');
  const weights = path.join(shipped, WEIGHTS_FILE);
  assert.ok(
    fs.existsSync(weights),
    `${weights} is missing: rebuild it with sweep pretrain --force --export models/base-tiny`,
  );
  assert.ok(fs.statSync(weights).size < 10 * 1024 * 1024);
  const documented = lastEval(path.join(shipped, 'metrics.jsonl'));
  // The bar for the base model: like a real CLIP, its learned scale is at the clamp.
  assert.ok(documented['logit_scale']! >= 99, `final logit scale ${documented['logit_scale']}`);
  assert.ok(documented['val/i2t_R@1']! >= 0.5, `final val i2t R@1 ${documented['val/i2t_R@1']}`);
  const doc = fs.readFileSync(fileURLToPath(new URL('../../../docs/trainer.md', import.meta.url)), 'utf8');
  assert.ok(doc.includes(`i2t R@1 ${documented['val/i2t_R@1']!}`), "docs/trainer.md states the shipped model's R@1");
  const clip = openClip({ weights });
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-shipped-'));
  try {
    const r = await evalRetrieval(
      clip,
      await pretrainVal(path.join(cache, 'pretrain-val'), clip.model.config.imageSize),
      { batchSize: 32 },
    );
    assert.equal(r.images, 400);
    assert.ok(
      Math.exp(clip.params.get('logit_scale')!.dataSync()[0]!) >= 99,
      'the weights hold the scale the metrics state',
    );
    assert.equal(r.metrics['val/i2t_R@1'], documented['val/i2t_R@1']);
    assert.equal(r.metrics['val/t2i_R@1'], documented['val/t2i_R@1']);
    // `init: base` on a fresh clone installs it instead of pretraining.
    const lines: string[] = [];
    const installed = await runPretrain({ runsDir: cache, log: (l) => lines.push(l) });
    assert.ok(
      lines.some((l) => l.startsWith('installed the shipped base model')),
      lines.join('\n'),
    );
    const ck = loadCheckpoint(installed.checkpointPath);
    assert.equal(ck.manifest.config.imageMean, undefined);
    assert.deepEqual(
      Array.from(ck.tensors.get('p:text.proj')!.dataSync()),
      Array.from(clip.params.get('text.proj')!.dataSync()),
    );
    assert.deepEqual(ck.manifest.vocab, clip.init.tokenizer.vocab);
  } finally {
    clip.dispose();
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

/** A build's metrics, step by step, without the timing figures (they differ between any two runs). */
function history(dir: string): { step: number; metrics: Record<string, number> }[] {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; metrics: Record<string, number> })
    .map(({ step, metrics }) => ({
      step,
      metrics: Object.fromEntries(Object.entries(metrics).filter(([k]) => !/per_sec|seconds|time/.test(k))),
    }));
}

test('a build stopped part-way resumes from its checkpoint folder and ends with the bytes and metrics of an uninterrupted one', async () => {
  const longer = { ...recipe, epochs: 3, eval_every: 2 }; // 9 steps, checkpoints every 2
  const [whole, parts] = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-pre-resume-')));
  const build = (runsDir: string, extra: Partial<Parameters<typeof runPretrain>[0]> = {}) =>
    runPretrain({
      runsDir,
      preset: 'micro',
      recipe: longer,
      embeddedSizes: small,
      exportDir: path.join(runsDir, 'out'),
      ...extra,
    });
  try {
    await build(whole!);
    const checkpointDir = path.join(parts!, 'ckpt');
    let polls = 0;
    // Stops after a few steps, between checkpoints, as Ctrl-C would.
    await assert.rejects(build(parts!, { checkpointDir, shouldStop: () => ++polls > 5 }), /interrupted/);
    const stoppedAt = loadCheckpoint(path.join(checkpointDir, 'last.json')).manifest.state.step;
    assert.ok(stoppedAt > 0 && stoppedAt < 9, `stopped part-way, at step ${stoppedAt}`);
    const lines: string[] = [];
    await build(parts!, { checkpointDir, force: true, log: (l) => lines.push(l) });
    assert.ok(
      lines.some((l) => l.includes(`at step ${stoppedAt}`)),
      lines.join('\n'),
    );
    const [a, b] = [whole!, parts!].map((d) => fs.readFileSync(path.join(d, 'out', WEIGHTS_FILE)));
    assert.ok(a!.equals(b!), "the resumed build's weights equal the uninterrupted one's, byte for byte");
    assert.deepEqual(history(path.join(parts!, 'out')), history(path.join(whole!, 'out')));
  } finally {
    for (const d of [whole!, parts!]) fs.rmSync(d, { recursive: true, force: true });
  }
});
