// Per-kernel time of one training step of the reference tiny model (development aid):
// node dist/bench/trainer/profile.js [backend]
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/trainer/backend.js';
import { ClipModel, initParams } from '../../src/trainer/model/clip.js';
import { presets } from '../../src/model/config.js';
import { AdamW, openClipAdamW } from '../../src/trainer/optim.js';
import { Stepper } from '../../src/trainer/step.js';
import { makeBatch } from '../../src/trainer/batches.js';
import { makeRng } from '../../src/trainer/rng.js';

await selectBackend((process.argv[2] ?? 'wasm') as BackendChoice);
const config = { ...presets.tiny!, vocabSize: 1000 };
const n = 64,
  s = 32,
  ctx = 16;
const rng = makeRng(1);
const tokens = new Int32Array(n * ctx);
for (let i = 0; i < n; i++) {
  tokens[i * ctx] = 1;
  for (let t = 1; t < 10; t++) tokens[i * ctx + t] = 4 + rng.int(996);
  tokens[i * ctx + 10] = 2;
}
const split = {
  images: Float32Array.from({ length: n * s * s * 3 }, () => rng.next()),
  imageSize: s,
  count: n,
  tokens,
  contextLength: ctx,
  captionImage: Int32Array.from({ length: n }, (_, i) => i),
  captions: [],
  imageIds: [],
};
const params = initParams(config, 0);
const stepper = new Stepper(new ClipModel(config, params), new AdamW(params, openClipAdamW(0.1)));
const idx = Int32Array.from({ length: n }, (_, i) => i);
const one = () => {
  const b = makeBatch(split, config, 2, idx, idx, null, null);
  stepper.step(b, 1e-4, 0, 0, null);
  b.dispose();
};
one();
one();
const tb = performance.now();
for (let i = 0; i < 5; i++)
  makeBatch(
    split,
    config,
    2,
    idx,
    idx,
    { crop: true, cropScale: [0.8, 1], flip: false, wordDropout: 0 },
    makeRng(3),
  ).dispose();
console.log('makeBatch ms', ((performance.now() - tb) / 5).toFixed(2));
let t = performance.now();
const prof = await tf.profile(() => {
  one();
});
console.log('step ms (profiled)', (performance.now() - t).toFixed(1));
const agg = new Map<string, { ms: number; count: number }>();
for (const k of prof.kernels) {
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('')}`;
  const a = agg.get(key) ?? { ms: 0, count: 0 };
  a.ms += Number(k.kernelTimeMs) || 0;
  a.count++;
  agg.set(key, a);
}
const byName = new Map<string, number>();
for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (Number(k.kernelTimeMs) || 0));
console.log(
  'total kernel ms',
  [...byName.values()].reduce((a, b) => a + b, 0).toFixed(1),
  'kernels',
  prof.kernels.length,
);
console.log(
  [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([k, v]) => `${k}: ${v.toFixed(1)}`)
    .join('\n'),
);
console.log('---');
console.log(
  [...agg]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 200)
    .map(([k, v]) => `${v.ms.toFixed(2)} ms x${v.count} ${k}`)
    .join('\n'),
);
t = performance.now();
for (let i = 0; i < 5; i++) one();
console.log('unprofiled step ms', ((performance.now() - t) / 5).toFixed(1));
// Phase split: forward only, forward + backward, full step.
{
  const b = makeBatch(split, config, 2, idx, idx, null, null);
  const model = stepper.model;
  const fwd = { dropout: 0, dropoutSeed: 0 };
  const { contrastiveLoss } = await import('../../src/trainer/loss.js');
  const lossOf = () =>
    contrastiveLoss(model.encodeImage(b.image, fwd), model.encodeText(b.text, fwd), params.get('logit_scale')!);
  const time = (name: string, f: () => void) => {
    f();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) f();
    console.log(name, ((performance.now() - t0) / 5).toFixed(1), 'ms');
  };
  time('forward', () =>
    tf.tidy(() => {
      lossOf().dataSync();
    }),
  );
  time('forward+backward', () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossOf, [...params.values()]);
      value.dataSync();
      Object.values(grads)[0]!.dataSync();
    }),
  );
  time('step', () => stepper.step(b, 1e-4, 0, 0, null));
}
