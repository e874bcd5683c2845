// The base model that fine-tuning starts from: pretrained deterministically on the embedded
// data set's pretraining split and cached under <runsDir>/models/. `sweep pretrain` builds it;
// `init: base` builds it on demand when missing. A lock file keeps concurrent runs from building
// it twice; a stale lock (its process gone) is taken over.
import fs from 'node:fs';
import path from 'node:path';
import { loadDataset } from './data/index.js';
import type { DatasetRequest } from './data/types.js';
import { parseParams } from './params.js';
import { presets, type ModelSize } from '../model/config.js';
import { disposeParams, train } from './train.js';
import { saveCheckpoint } from './checkpoint.js';
import type { MetricsSink } from './protocol.js';
import { currentBackend, selectBackend } from './backend.js';
import * as tf from '@tensorflow/tfjs';

/** Bump when the recipe changes, so that an old cache is not reused. */
export const PRETRAIN_VERSION = 1;

/** The recipe: a few epochs over the pretraining split, OpenCLIP-style AdamW and cosine schedule. */
export const pretrainRecipe = {
  seed: 0,
  batch_size: 64,
  lr: 2e-3,
  warmup: 100,
  weight_decay: 0.1,
  epochs: 3,
  schedule: 'cosine',
  augment: true,
  eval_every: 1000,
  log_every: 25,
  init: 'none',
  dataset: 'embedded-pretrain',
} as const;

export function baseDir(runsDir: string, preset: string): string {
  return path.join(runsDir, 'models', `base-${preset}-v${PRETRAIN_VERSION}`);
}

export const BASE_MANIFEST = 'model.json';

export interface PretrainOptions {
  runsDir: string;
  force?: boolean;
  log?: (line: string) => void;
  /** Model preset (default "tiny"). */
  preset?: string;
  /** Tests: a smaller recipe and data set (the cache folder name does not change: use a scratch runsDir). */
  recipe?: Partial<Record<keyof typeof pretrainRecipe, unknown>>;
  embeddedSizes?: DatasetRequest['embeddedSizes'];
  /** Polled between steps and while waiting for another builder (SIGTERM): throws PretrainInterrupted. */
  shouldStop?: () => boolean;
}

export class PretrainInterrupted extends Error {
  constructor() {
    super('pretraining interrupted');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withLock<T>(lockFile: string, log: (l: string) => void, shouldStop: () => boolean, body: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited++) {
    if (shouldStop()) throw new PretrainInterrupted();
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (waited % 60 === 0) log(`waiting for process ${holder} to finish building the base model`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await body();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/** Builds (or finds) the base model; returns its manifest path. */
export async function runPretrain(opts: PretrainOptions): Promise<{ checkpointPath: string }> {
  const log = opts.log ?? (() => {});
  const preset = opts.preset ?? 'tiny';
  const size: ModelSize | undefined = presets[preset];
  if (!size) throw new Error(`no model preset ${preset}`);
  const dir = baseDir(opts.runsDir, preset);
  const manifest = path.join(dir, BASE_MANIFEST);
  if (!opts.force && fs.existsSync(manifest)) return { checkpointPath: manifest };
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const shouldStop = opts.shouldStop ?? (() => false);
  return withLock(`${dir}.lock`, log, shouldStop, async () => {
    if (!opts.force && fs.existsSync(manifest)) return { checkpointPath: manifest };
    if (!currentBackend()) await selectBackend('auto');
    const params = parseParams({ ...pretrainRecipe, ...opts.recipe, model: preset });
    const bundle = await loadDataset({
      dataset: 'embedded-pretrain', imageSize: size.imageSize, contextLength: size.contextLength, cacheDir: path.join(opts.runsDir, 'cache'),
      ...(opts.embeddedSizes ? { embeddedSizes: opts.embeddedSizes } : {}),
    });
    log(`pretraining the ${preset} base model on ${bundle.description} (backend ${tf.getBackend()})`);
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const metrics = fs.openSync(path.join(tmp, 'metrics.jsonl'), 'w');
    const sink: MetricsSink = {
      metrics(step, values) {
        fs.writeSync(metrics, JSON.stringify({ step, metrics: values }) + '\n');
        if ('val/loss' in values) log(`step ${step}: val/loss ${values['val/loss']?.toFixed(3)} val/i2t_R@1 ${values['val/i2t_R@1']?.toFixed(3)}`);
        else log(`step ${step}: train/loss ${values['train/loss']?.toFixed(3)} (${values['train/samples_per_sec']?.toFixed(0)} samples/s)`);
      },
      event() {},
    };
    const r = await train({ params, bundle, sink, checkpointDir: null, shouldStop });
    fs.closeSync(metrics);
    if (r.reason === 'interrupted') {
      disposeParams(r.params);
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new PretrainInterrupted();
    }
    saveCheckpoint(tmp, 'model', {
      config: r.config, vocab: bundle.tokenizer.vocab, params: r.params, optimizer: null,
      state: { step: r.step, totalSteps: r.totalSteps, bestValue: null, bestStep: null, evalsWithoutImprovement: 0 },
      info: { recipe: { ...pretrainRecipe, ...opts.recipe }, preset, backend: tf.getBackend(), summary: r.summary, rebuild: 'sweep pretrain --force' },
    });
    disposeParams(r.params);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`base model written to ${manifest}`);
    return { checkpointPath: manifest };
  });
}
