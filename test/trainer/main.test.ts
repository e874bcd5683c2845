// Runs the real trainer process (dist/src/trainer/main.js) as the orchestrator does.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cocoFixture } from './fixtures.js';
import { runPretrain } from '../../src/trainer/pretrain.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/trainer/main.js');
let root = '';
let coco = '';

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-main-'));
  coco = await cocoFixture(path.join(root, 'coco'), 24, 8);
  // The base model for `init: base`, small, where runs/<sweep>/<run>/ finds it (runs/models/).
  await runPretrain({
    runsDir: path.join(root, 'runs'),
    preset: 'micro',
    recipe: { epochs: 1, batch_size: 16, warmup: 1 },
    embeddedSizes: { pretrainTrain: 32, pretrainVal: 16, finetuneTrain: 16, finetuneVal: 16 },
  });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  lines: Record<string, unknown>[];
  dir: string;
}

function start(
  name: string,
  params: Record<string, unknown>,
  attempt = 1,
  onLine?: (line: Record<string, unknown>, kill: () => void) => void,
): Promise<Run> {
  const dir = path.join(root, 'runs', 'sweep', name);
  fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  const metrics = path.join(dir, 'metrics.jsonl');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      SWEEP_PARAMS: JSON.stringify(params),
      SWEEP_METRICS_FILE: metrics,
      SWEEP_RUN_DIR: dir,
      SWEEP_CHECKPOINT_DIR: path.join(dir, 'checkpoints'),
      SWEEP_RUN_ID: name,
      SWEEP_ATTEMPT: String(attempt),
      CUDA_VISIBLE_DEVICES: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let seen = 0;
  const poll =
    onLine &&
    setInterval(() => {
      if (!fs.existsSync(metrics)) return;
      const all = fs.readFileSync(metrics, 'utf8').split('\n').filter(Boolean);
      for (; seen < all.length; seen++) onLine(JSON.parse(all[seen]!), () => child.kill('SIGTERM'));
    }, 50);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      const lines = fs.existsSync(metrics)
        ? fs
            .readFileSync(metrics, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [];
      resolve({ code, signal, stderr, lines, dir });
    }),
  );
}

const base = () => ({
  dataset: coco,
  model: 'micro',
  init: 'none',
  batch_size: 8,
  steps: 12,
  eval_every: 6,
  log_every: 2,
  eval_batch_size: 8,
  backend: 'wasm',
});

test('a run writes protocol lines and checkpoints, and exits 0', async () => {
  const r = await start('ok', base());
  assert.equal(r.code, 0, r.stderr);
  const events = r.lines.filter((l) => l.event).map((l) => l.event);
  assert.deepEqual([events[0], events[1], events.at(-1)], ['info', 'started', 'finished']);
  assert.equal((r.lines[0] as { backend: string }).backend, 'wasm');
  const metrics = r.lines.filter((l) => l.metrics) as { step: number; metrics: Record<string, unknown> }[];
  for (const m of metrics) {
    assert.ok(Number.isInteger(m.step) && m.step >= 0);
    for (const v of Object.values(m.metrics))
      assert.ok(typeof v === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(v as string));
  }
  const keys = new Set(metrics.flatMap((m) => Object.keys(m.metrics)));
  for (const k of [
    'train/loss',
    'lr',
    'logit_scale',
    'train/samples_per_sec',
    'val/loss',
    'val/i2t_R@1',
    'val/t2i_R@10',
    'val/i2t_mean_rank',
    'val/t2i_median_rank',
    'train_eval/loss',
    'train_eval/i2t_R@5',
  ]) {
    assert.ok(keys.has(k), `missing ${k}`);
  }
  assert.deepEqual(
    metrics.filter((m) => 'val/loss' in m.metrics).map((m) => m.step),
    [0, 6, 12],
  );
  assert.ok(
    fs.existsSync(path.join(r.dir, 'checkpoints', 'last.json')) &&
      fs.existsSync(path.join(r.dir, 'checkpoints', 'best.json')),
  );
});

test('unknown parameters: exit 2 naming them', async () => {
  const r = await start('bad', { ...base(), learning_rate: 0.1 });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown parameter\(s\) "learning_rate"/);
});

test('SIGTERM saves a last checkpoint and exits 143; the next attempt resumes without a jump', async () => {
  const params = { ...base(), steps: 400, eval_every: 200, log_every: 1 };
  const r1 = await start('term', params, 1, (line, kill) => {
    if (line.step === 3 && line.metrics && 'train/loss' in (line.metrics as object)) kill();
  });
  assert.equal(r1.code, 143, r1.stderr);
  const ckpt = r1.lines.filter((l) => l.event === 'checkpoint' && l.kind === 'last');
  assert.equal(ckpt.length, 1);
  const stoppedAt = ckpt[0]!.step as number;
  assert.ok(stoppedAt >= 3 && stoppedAt < 400);
  const r2 = await start('term', { ...params, steps: 400 }, 2, (line, kill) => {
    if (typeof line.step === 'number' && line.step >= stoppedAt + 3) kill();
  });
  assert.equal(r2.code, 143, r2.stderr);
  const started = r2.lines.filter((l) => l.event === 'started');
  assert.equal(started.at(-1)!.resumed_from_step, stoppedAt);
  const lrs = r2.lines.filter((l) => l.metrics && 'lr' in (l.metrics as object)).map((l) => l.step as number);
  // Steps of the first attempt up to the checkpoint, then the second's right after it, no gap.
  assert.ok(lrs.includes(stoppedAt) && lrs.includes(stoppedAt + 1));
});

test('init: base fine-tunes the cached base model, with its vocabulary', async () => {
  const r = await start('base', { ...base(), init: 'base', steps: 4, eval_every: 4 });
  assert.equal(r.code, 0, r.stderr);
  const init = r.lines.find((l) => l.event === 'info' && 'init' in l);
  assert.match(String(init?.init), /models\/base-micro-v\d+\/model\.json$/);
  assert.equal(r.lines.at(-1)!.event, 'finished');
});
