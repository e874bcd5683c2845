// Forward + backward throughput of CLIP ViT-B/32 (224 px, context 77, vocab 49408) in the built-in
// model on the CPU backends present, in samples/s (one sample = one image and one caption). Random
// weights: the arithmetic is the same as for the real ones. Prints figures; asserts nothing.
// Options: --backends wasm,cpu  --batch 8  --steps 3  --cpu-batch 2  --cpu-steps 1
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/trainer/backend.js';
import { ClipModel, countParams, disposeParams, initParams } from '../../src/trainer/model/clip.js';
import { presets, type ModelConfig } from '../../src/model/config.js';
import { contrastiveLoss } from '../../src/trainer/loss.js';
import { makeBatch } from '../../src/trainer/batches.js';
import type { ImageCaptionSplit } from '../../src/trainer/data/types.js';
import { makeRng } from '../../src/trainer/rng.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const backends = opt('backends', 'node-gpu,node,wasm,cpu').split(',') as BackendChoice[];

const config: ModelConfig = { ...presets['vit-b-32']!, vocabSize: 49408, quickGelu: true };

function syntheticSplit(n: number): ImageCaptionSplit {
  const rng = makeRng(3);
  const s = config.imageSize;
  const ctx = config.contextLength;
  const tokens = new Int32Array(n * ctx);
  for (let i = 0; i < n; i++) {
    // COCO captions are 10-20 tokens; the text tower still runs all 77 positions.
    const len = 10 + rng.int(10);
    tokens[i * ctx] = 49406;
    for (let t = 1; t <= len; t++) tokens[i * ctx + t] = 1 + rng.int(49000);
    tokens[i * ctx + len + 1] = 49407;
  }
  return {
    images: Float32Array.from({ length: n * s * s * 3 }, () => rng.normal()),
    imageSize: s,
    count: n,
    tokens,
    contextLength: ctx,
    captionImage: Int32Array.from({ length: n }, (_, i) => i),
    captions: [],
    imageIds: [],
  };
}

async function bench(choice: BackendChoice, batch: number, steps: number, warmup: number): Promise<void> {
  try {
    const info = await selectBackend(choice);
    if (info.loaded !== choice) return;
  } catch {
    console.log(`${choice}: not available`);
    return;
  }
  const params = initParams(config, 0);
  const model = new ClipModel(config, params);
  const vars = [...params.values()];
  const split = syntheticSplit(batch);
  const idx = Int32Array.from({ length: batch }, (_, i) => i);
  const fwd = { dropout: 0, dropoutSeed: 0 };
  const step = (): number => {
    const b = makeBatch(split, config, 49407, idx, idx, null, null);
    const t0 = performance.now();
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          contrastiveLoss(model.encodeImage(b.image, fwd), model.encodeText(b.text, fwd), params.get('logit_scale')!),
        vars,
      );
      // Reading the loss and one gradient waits for all the work (and keeps it from being skipped).
      value.dataSync();
      Object.values(grads)[0]!.dataSync();
    });
    b.dispose();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) times.push(step());
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const mem = process.memoryUsage();
  console.log(
    JSON.stringify({
      backend: choice,
      tf_backend: tf.getBackend(),
      params: countParams(params),
      batch,
      steps,
      ms_per_step: Math.round(mean),
      samples_per_sec: Number(((batch * 1000) / mean).toFixed(3)),
      rss_mb: Math.round(mem.rss / 2 ** 20),
    }),
  );
  model.dispose();
  disposeParams(params);
}

for (const b of backends) {
  if (b === 'cpu') await bench(b, Number(opt('cpu-batch', '2')), Number(opt('cpu-steps', '1')), 0);
  else await bench(b, Number(opt('batch', '8')), Number(opt('steps', '3')), 1);
}
