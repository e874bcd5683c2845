// The base model that fine-tuning starts from: pretrained deterministically on the embedded
// data set's pretraining split and cached under <runsDir>/models/. `sweep pretrain` builds it;
// `init: base` builds it on demand when missing. A lock file keeps concurrent runs from building
// it twice; a stale lock (its process gone) is taken over.
import fs from 'node:fs';
import path from 'node:path';
import { loadDataset } from './data/index.js';
import { DEFAULT_EMBEDDED_SIZES } from './data/embedded/generate.js';
import type { DatasetRequest } from './data/types.js';
import { parseParams } from './params.js';
import { presets, type ModelConfig, type ModelSize } from '../model/config.js';
import { disposeParams, train } from './train.js';
import { restore, saveCheckpoint, disposeLoaded, loadCheckpoint, type Loaded } from './checkpoint.js';
import { exportOpenClip, WEIGHTS_FILE } from './base-export.js';
import { loadClipInit } from './clip-init.js';
import { initParams, type ParamMap } from './model/clip.js';
import { fileURLToPath } from 'node:url';
import type { MetricsSink } from './protocol.js';
import { currentBackend, selectBackend } from './backend.js';
import * as tf from '@tensorflow/tfjs';

/** Bump when the recipe changes, so that an old cache is not reused. */
export const PRETRAIN_VERSION = 4;

/**
 * The recipe, OpenCLIP's from scratch: AdamW (0.9, 0.98, eps 1e-6), weight decay 0.1, linear
 * warmup then cosine, the logit scale from ln(1/0.07) clamped at ln(100). Long enough for the
 * learned scale to reach the clamp, as a real CLIP's does. `model` changes the preset's sizes: a
 * 4-dimensional embedding, crowded by the domain's 13,824 attribute combinations as a real CLIP's
 * 512 dimensions are by its concepts, so that telling neighbours apart needs a large scale
 * (docs/trainer.md, "The base model", says why and what else was tried).
 */
export const pretrainRecipe = {
  seed: 0,
  batch_size: 64,
  lr: 1e-3,
  warmup: 200,
  weight_decay: 0.1,
  steps: 6000,
  schedule: 'cosine',
  augment: { crop: true, crop_scale: [0.9, 1] },
  eval_every: 500,
  log_every: 25,
  init: 'none',
  dataset: 'embedded-pretrain',
  model: { embed_dim: 4 },
} as const;

/** The pretraining domain: 16,000 images, about one per attribute combination (fine-tuning sizes: the defaults). */
export const PRETRAIN_SIZES = { ...DEFAULT_EMBEDDED_SIZES, pretrainTrain: 16000 };

/** The recipe with a caller's changes; a length in epochs replaces the recipe's steps. */
function effectiveRecipe(changes: PretrainOptions['recipe']): Record<string, unknown> {
  const { steps, ...rest } = pretrainRecipe;
  return changes && 'epochs' in changes ? { ...rest, ...changes } : { ...rest, steps, ...changes };
}

export function baseDir(runsDir: string, preset: string): string {
  return path.join(runsDir, 'models', `base-${preset}-v${PRETRAIN_VERSION}`);
}

export const BASE_MANIFEST = 'model.json';

/** The base model shipped with clipsweep (models/base-<preset>/ at the package root), if any. */
export function shippedBaseDir(preset: string): string {
  return fileURLToPath(new URL(`../../../models/base-${preset}/`, import.meta.url));
}

/**
 * Installs the shipped base model into the cache as a trainer checkpoint, when it was built by
 * this recipe version: a fresh clone fine-tunes at once, without pretraining. Returns false when
 * there is none to install.
 */
function installShipped(preset: string, dir: string, log: (l: string) => void): boolean {
  const weights = path.join(shippedBaseDir(preset), WEIGHTS_FILE);
  if (!fs.existsSync(weights)) return false;
  const clip = loadClipInit({ init: weights });
  if (clip.weights.source.metadata?.['pretrain_version'] !== String(PRETRAIN_VERSION)) {
    disposeLoaded(clip.loaded);
    return false;
  }
  // Mean 0 / std 1 is how the export says "no normalisation": keep the trainer's own config.
  // Likewise the defaults the config file spells out (exact GELU, one MLP ratio): the installed
  // checkpoint's config is then the one the build wrote.
  const { imageMean, imageStd, quickGelu, textMlpRatio, ...rest } = clip.loaded.manifest.config;
  const identity = imageMean?.every((v) => v === 0) && imageStd?.every((v) => v === 1);
  const config: ModelConfig = {
    ...rest,
    ...(identity || !imageMean || !imageStd ? {} : { imageMean, imageStd }),
    ...(quickGelu ? { quickGelu } : {}),
    ...(textMlpRatio !== undefined && textMlpRatio !== rest.mlpRatio ? { textMlpRatio } : {}),
  };
  const params: ParamMap = initParams(config, 0);
  restore(clip.loaded, params, null);
  disposeLoaded(clip.loaded);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  saveCheckpoint(tmp, 'model', {
    config,
    vocab: clip.tokenizer.vocab,
    params,
    optimizer: null,
    state: { step: 0, totalSteps: 0, bestValue: null, bestStep: null, evalsWithoutImprovement: 0 },
    info: { shipped: weights, rebuild: 'sweep pretrain --force' },
  });
  disposeParams(params);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  log(`installed the shipped base model ${weights}`);
  return true;
}

export interface PretrainOptions {
  runsDir: string;
  force?: boolean;
  log?: (line: string) => void;
  /** Model preset (default "tiny"). */
  preset?: string;
  /** Tests: a smaller recipe and data set (the cache folder name does not change: use a scratch runsDir). */
  recipe?: Partial<Record<keyof typeof pretrainRecipe | 'epochs', unknown>>;
  embeddedSizes?: DatasetRequest['embeddedSizes'];
  /** Polled between steps and while waiting for another builder (SIGTERM): throws PretrainInterrupted. */
  shouldStop?: () => boolean;
  /** Also write the OpenCLIP-format files (safetensors, config, vocab, metrics) here: how models/base-tiny/ is rebuilt. */
  exportDir?: string;
  /** Tests: never install the shipped base model; build. */
  noShipped?: boolean;
  /**
   * Where to write `last` / `best` checkpoints and the metrics so far while pretraining; none by
   * default. A build that finds `last.json` there resumes from it (same data order and schedule),
   * so an hours-long build survives a stop.
   */
  checkpointDir?: string;
}

/**
 * The `last` checkpoint of an interrupted build, if any, with its metrics history cut back to
 * the checkpoint's step: the steps after it are trained (and logged) again.
 */
function resumePoint(checkpointDir: string | undefined, log: (l: string) => void): { loaded: Loaded } | null {
  if (checkpointDir === undefined) return null;
  fs.mkdirSync(checkpointDir, { recursive: true });
  const last = path.join(checkpointDir, 'last.json');
  const history = path.join(checkpointDir, 'metrics.jsonl');
  if (!fs.existsSync(last)) return null;
  const loaded = loadCheckpoint(last);
  const step = loaded.manifest.state.step;
  const kept = fs.existsSync(history)
    ? fs
        .readFileSync(history, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && (JSON.parse(l) as { step: number }).step <= step)
    : [];
  fs.writeFileSync(history, kept.map((l) => `${l}\n`).join(''));
  log(`resuming the build from ${last} at step ${step}`);
  return { loaded };
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

async function withLock<T>(
  lockFile: string,
  log: (l: string) => void,
  shouldStop: () => boolean,
  body: () => Promise<T>,
): Promise<T> {
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
    if (!opts.force && !opts.noShipped && !opts.recipe && !opts.embeddedSizes && installShipped(preset, dir, log))
      return { checkpointPath: manifest };
    const recipe = effectiveRecipe(opts.recipe);
    const { model: modelChanges, ...training } = recipe;
    const params = parseParams({ ...training, model: { preset, ...(modelChanges as object | undefined) } });
    const bundle = await loadDataset({
      dataset: 'embedded-pretrain',
      imageSize: size.imageSize,
      contextLength: size.contextLength,
      cacheDir: path.join(opts.runsDir, 'cache'),
      embeddedSizes: opts.embeddedSizes ?? PRETRAIN_SIZES,
    });
    log(`pretraining the ${preset} base model on ${bundle.description} (backend ${tf.getBackend()})`);
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const resume = resumePoint(opts.checkpointDir, log);
    const metricsFile = path.join(opts.checkpointDir ?? tmp, 'metrics.jsonl');
    const metrics = fs.openSync(metricsFile, resume ? 'a' : 'w');
    const sink: MetricsSink = {
      metrics(step, values) {
        fs.writeSync(metrics, JSON.stringify({ step, metrics: values }) + '\n');
        if ('val/loss' in values)
          log(
            `step ${step}: val/loss ${values['val/loss']?.toFixed(3)} val/i2t_R@1 ${values['val/i2t_R@1']?.toFixed(3)} scale ${values['logit_scale']?.toFixed(2)}`,
          );
        else
          log(
            `step ${step}: train/loss ${values['train/loss']?.toFixed(3)} (${values['train/samples_per_sec']?.toFixed(0)} samples/s)`,
          );
      },
      event() {},
    };
    const r = await train({
      params,
      bundle,
      sink,
      checkpointDir: opts.checkpointDir ?? null,
      shouldStop,
      resume: resume?.loaded ?? null,
    });
    fs.closeSync(metrics);
    if (metricsFile !== path.join(tmp, 'metrics.jsonl')) fs.copyFileSync(metricsFile, path.join(tmp, 'metrics.jsonl'));
    if (r.reason === 'interrupted') {
      disposeParams(r.params);
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new PretrainInterrupted();
    }
    saveCheckpoint(tmp, 'model', {
      config: r.config,
      vocab: bundle.tokenizer.vocab,
      params: r.params,
      optimizer: null,
      state: { step: r.step, totalSteps: r.totalSteps, bestValue: null, bestStep: null, evalsWithoutImprovement: 0 },
      info: { recipe, preset, backend: tf.getBackend(), summary: r.summary, rebuild: 'sweep pretrain --force' },
    });
    const values = new Map<string, Float32Array>();
    for (const [name, v] of r.params) values.set(name, v.dataSync() as Float32Array);
    const metadata = {
      pretrain_version: String(PRETRAIN_VERSION),
      recipe: JSON.stringify(recipe),
      backend: tf.getBackend(),
      rebuild: 'sweep pretrain --force',
    };
    exportOpenClip(tmp, r.config, bundle.tokenizer.vocab, values, metadata);
    disposeParams(r.params);
    if (opts.exportDir) {
      fs.mkdirSync(opts.exportDir, { recursive: true });
      for (const f of fs.readdirSync(tmp))
        if (!/\.(bin|json)$/.test(f) || f === 'open_clip_config.json')
          fs.copyFileSync(path.join(tmp, f), path.join(opts.exportDir, f));
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`base model written to ${manifest}`);
    return { checkpointPath: manifest };
  });
}
