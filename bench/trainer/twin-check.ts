// Cross-check of the TF.js model against the PyTorch twin (torch_twin.py) on the same weights and
// batch: loss and a few gradients must agree. Run: node dist/bench/trainer/twin-check.js
// (needs Debian's python3-torch). Writes its exchange files to a temporary folder.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/trainer/backend.js';
import { ClipModel, initParams } from '../../src/trainer/model/clip.js';
import { presets } from '../../src/model/config.js';
import { makeBatch } from '../../src/trainer/batches.js';
import { contrastiveLoss } from '../../src/trainer/loss.js';
import { makeRng } from '../../src/trainer/rng.js';

await selectBackend('wasm');
const config = { ...presets.tiny!, vocabSize: 1000 };
const n = 8,
  s = config.imageSize,
  ctx = config.contextLength;
const rng = makeRng(5);
const tokens = new Int32Array(n * ctx);
const eot: number[] = [];
for (let i = 0; i < n; i++) {
  const len = 3 + (i % 9);
  tokens[i * ctx] = 1;
  for (let t = 1; t <= len; t++) tokens[i * ctx + t] = 4 + rng.int(996);
  tokens[i * ctx + len + 1] = 2;
  eot.push(len + 1);
}
const images = Float32Array.from({ length: n * s * s * 3 }, () => rng.next());
const split = {
  images,
  imageSize: s,
  count: n,
  tokens,
  contextLength: ctx,
  captionImage: Int32Array.from({ length: n }, (_, i) => i),
  captions: [],
  imageIds: [],
};
const params = initParams(config, 3);
const model = new ClipModel(config, params);
const idx = Int32Array.from({ length: n }, (_, i) => i);
const batch = makeBatch(split, config, 2, idx, idx, null, null);
const fwd = { dropout: 0, dropoutSeed: 0 };
const watched = ['visual.patch.w', 'visual.blocks.1.attn.qkv.w', 'text.token', 'text.blocks.0.mlp.fc.w', 'logit_scale'];
const { value, grads } = tf.variableGrads(
  () =>
    contrastiveLoss(model.encodeImage(batch.image, fwd), model.encodeText(batch.text, fwd), params.get('logit_scale')!),
  watched.map((w) => params.get(w)!),
);
const byVar = new Map([...params].map(([k, v]) => [v.name, k]));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-twin-'));
const dump = (o: Record<string, tf.Tensor>) =>
  Object.fromEntries(Object.entries(o).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.dataSync()) }]));
fs.writeFileSync(
  path.join(dir, 'in.json'),
  JSON.stringify({
    params: dump(Object.fromEntries(params)),
    grads: dump(Object.fromEntries(Object.entries(grads).map(([k, g]) => [byVar.get(k)!, g]))),
    loss: value.dataSync()[0],
    images: Array.from(images),
    tokens: Array.from(tokens),
    eot,
    n,
    config,
  }),
);
const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.resolve(here, '../../../bench/trainer/twin_check.py');
const r = spawnSync(
  fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
  [script, path.join(dir, 'in.json')],
  { encoding: 'utf8' },
);
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
fs.rmSync(dir, { recursive: true, force: true });
process.exit(r.status ?? 1);
