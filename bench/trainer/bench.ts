// npm run bench:trainer: the reference tiny CLIP of issue 3 (see torch_twin.py for the same model
// in PyTorch) trained for a few steps on each TF.js backend present, then the PyTorch twin on one
// core, one after the other; prints samples/s for each and the ratio to PyTorch.
// Options: --backends wasm,cpu  --steps N  --batch B  --rounds R  --no-torch  --python /usr/bin/python3
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/trainer/backend.js';
import { ClipModel, countParams, disposeParams, initParams } from '../../src/trainer/model/clip.js';
import { presets } from '../../src/model/config.js';
import { AdamW, openClipAdamW } from '../../src/trainer/optim.js';
import { Stepper } from '../../src/trainer/step.js';
import { makeBatch } from '../../src/trainer/batches.js';
import type { ImageCaptionSplit } from '../../src/trainer/data/types.js';
import { makeRng } from '../../src/trainer/rng.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const steps = Number(opt('steps', '20'));
const batch = Number(opt('batch', '64'));
const backends = opt('backends', 'node-gpu,node,wasm,cpu').split(',') as BackendChoice[];

const config = { ...presets.tiny!, vocabSize: 1000 };

/** Random images and token rows with the EOT (id 2) at position 10, as the twin. */
function syntheticSplit(n: number): ImageCaptionSplit {
  const rng = makeRng(1);
  const s = config.imageSize;
  const ctx = config.contextLength;
  const tokens = new Int32Array(n * ctx);
  for (let i = 0; i < n; i++) {
    tokens[i * ctx] = 1;
    for (let t = 1; t < 10; t++) tokens[i * ctx + t] = 4 + rng.int(996);
    tokens[i * ctx + 10] = 2;
  }
  return {
    images: Float32Array.from({ length: n * s * s * 3 }, () => rng.next()),
    imageSize: s,
    count: n,
    tokens,
    contextLength: ctx,
    captionImage: Int32Array.from({ length: n }, (_, i) => i),
    captions: [],
    imageIds: Array.from({ length: n }, (_, i) => i),
  };
}

async function benchTfjs(choice: BackendChoice): Promise<{ backend: string; samples_per_sec: number } | null> {
  try {
    const info = await selectBackend(choice);
    if (info.loaded !== choice) return null;
  } catch {
    return null;
  }
  const split = syntheticSplit(batch);
  const params = initParams(config, 0);
  const model = new ClipModel(config, params);
  const stepper = new Stepper(model, new AdamW(params, openClipAdamW(0.1)));
  const images = Int32Array.from({ length: batch }, (_, i) => i);
  // The plain CPU backend is two orders of magnitude slower: fewer steps.
  const n = choice === 'cpu' ? 1 : steps;
  const run = () => {
    const b = makeBatch(
      split,
      config,
      2,
      images,
      images,
      { crop: true, cropScale: [0.8, 1], flip: false, wordDropout: 0 },
      makeRng(2),
    );
    stepper.step(b, 1e-4, 0, 0, null);
    b.dispose();
  };
  for (let i = 0; i < (choice === 'cpu' ? 0 : 3); i++) run();
  const t = performance.now();
  for (let i = 0; i < n; i++) run();
  const sps = (batch * n) / ((performance.now() - t) / 1000);
  process.stderr.write(
    `tfjs ${choice}: ${countParams(params)} parameters, ${n} steps at batch ${batch}: ${sps.toFixed(1)} samples/s\n`,
  );
  model.dispose();
  disposeParams(params);
  return { backend: choice, samples_per_sec: sps };
}

function benchTorch(): { samples_per_sec: number; params: number } | null {
  if (argv.includes('--no-torch')) return null;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // The script is not compiled: find it in the source tree (dist/bench/trainer -> bench/trainer).
  const script = [path.resolve(here, '../../../bench/trainer/torch_twin.py'), path.resolve(here, 'torch_twin.py')].find(
    (p) => fs.existsSync(p),
  );
  const python = opt('python', fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  if (!script) return null;
  const r = spawnSync(python, [script, '--steps', String(steps), '--batch', String(batch), '--threads', '1'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(
      `pytorch twin failed (${python}; needs Debian's python3-torch): ${r.stderr.trim().split('\n').at(-1)}\n`,
    );
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { samples_per_sec: number; params: number };
  process.stderr.write(`pytorch (1 thread): ${out.params} parameters: ${out.samples_per_sec.toFixed(1)} samples/s\n`);
  return out;
}

// On a shared machine other work slows either side at random: alternate the two, several rounds,
// and keep each one's best round.
const rounds = Number(opt('rounds', '3'));
const best = new Map<string, number>();
let torchBest: number | null = null;
for (let r = 0; r < rounds; r++) {
  for (const b of backends) {
    if (b === 'cpu' && r > 0) continue; // two orders of magnitude slower: one round is enough
    const res = await benchTfjs(b);
    if (res) best.set(res.backend, Math.max(best.get(res.backend) ?? 0, res.samples_per_sec));
  }
  const t = benchTorch();
  if (t) torchBest = Math.max(torchBest ?? 0, t.samples_per_sec);
}
console.log(`\nreference tiny CLIP, batch ${batch}, one core each, best of ${rounds} alternating rounds`);
for (const [backend, sps] of best) {
  const ratio = torchBest ? ` ${((100 * sps) / torchBest).toFixed(1)}% of PyTorch` : '';
  console.log(`  tfjs ${backend.padEnd(8)} ${sps.toFixed(1).padStart(8)} samples/s${ratio}`);
}
if (torchBest) console.log(`  pytorch       ${torchBest.toFixed(1).padStart(8)} samples/s`);
void tf;
