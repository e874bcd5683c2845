// The built-in trainer's process: reads the protocol environment (docs/protocol.md), validates
// its parameters, loads data, trains, and writes metric and event lines. Exit codes: 0 completed
// (or stopped early), 2 bad parameters, 1 any other failure, 143 stopped by SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import { parseParams, ParamError, type TrainParams } from './params.js';
import { selectBackend } from './backend.js';
import { fileSink } from './protocol.js';
import { disposeLoaded, loadCheckpoint, manifestPath, type Loaded } from './checkpoint.js';
import { loadDataset } from './data/index.js';
import { runPretrain, BASE_MANIFEST, PretrainInterrupted } from './pretrain.js';
import { disposeParams, train } from './train.js';
import { exportClipWeights, isClipWeightsFile, loadClipInit, type ClipInit } from './clip-init.js';
import { findVocab, loadClipTokenizer } from '../clip/tokenizer/index.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { UsageError } from '../errors.js';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new UsageError(`${name} is not set (the trainer is started by the orchestrator; see docs/protocol.md)`);
  return v;
}

/** runs/<sweep>/<run-id>/ -> runs/, where the shared caches (models/, cache/) live. */
function runsDirFor(p: TrainParams, runDir: string): string {
  if (p.runs_dir) return path.resolve(p.runs_dir);
  const up = path.resolve(runDir, '..', '..');
  return up === path.parse(up).root ? path.resolve('runs') : up;
}

/** A manifest file, or a folder holding best.json, last.json or model.json. */
function resolveInit(spec: string): string {
  const p = path.resolve(spec);
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    for (const f of ['best.json', 'last.json', BASE_MANIFEST])
      if (fs.existsSync(path.join(p, f))) return path.join(p, f);
    throw new UsageError(`init: folder ${p} holds no checkpoint (best.json, last.json or ${BASE_MANIFEST})`);
  }
  if (!fs.existsSync(p)) throw new UsageError(`init: ${p} does not exist (use "base", "none" or a checkpoint path)`);
  return p;
}

async function main(): Promise<number> {
  let stop = false;
  // The first signal asks for a checkpoint and a prompt exit; a second one exits at once.
  const onSignal = () => {
    if (stop) process.exit(143);
    stop = true;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let raw: unknown;
  try {
    raw = JSON.parse(process.env.SWEEP_PARAMS ?? '{}');
  } catch (e) {
    throw new UsageError(`SWEEP_PARAMS is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const params = parseParams(raw);
  const runDir = env('SWEEP_RUN_DIR');
  const ckptDir = env('SWEEP_CHECKPOINT_DIR');
  const metricsFile = env('SWEEP_METRICS_FILE');
  const attempt = Number(process.env.SWEEP_ATTEMPT ?? '1');
  fs.mkdirSync(ckptDir, { recursive: true });
  const sink = fileSink(metricsFile);
  const backend = await selectBackend(params.backend);
  sink.event('info', {
    backend: backend.loaded,
    tf_backend: backend.tfBackend,
    tried: backend.tried,
    cuda_visible_devices: process.env.CUDA_VISIBLE_DEVICES ?? null,
    attempt,
    run_id: process.env.SWEEP_RUN_ID ?? null,
  });

  const runsDir = runsDirFor(params, runDir);
  let clip: ClipInit | null = null;
  if (isClipWeightsFile(params.init)) {
    try {
      clip = loadClipInit({ init: params.init, modelConfig: params.model_config, vocab: params.vocab });
    } catch (e) {
      // Missing or unusable files are bad parameters: exit 2, and the message names the file.
      throw new UsageError((e as Error).message, { cause: e });
    }
    sink.event('info', {
      clip_weights: path.resolve(params.init),
      naming: clip.weights.naming,
      dtype: clip.weights.dtype,
      model_config: clip.archFile,
      vocab: clip.vocabFile,
    });
  } else if (params.model_config || params.vocab) {
    throw new UsageError('model_config and vocab apply to real CLIP weights only (init: a .safetensors file)');
  }
  let resume: Loaded | null = null;
  if (fs.existsSync(manifestPath(ckptDir, 'last'))) {
    try {
      resume = loadCheckpoint(manifestPath(ckptDir, 'last'));
      sink.event('info', {
        message: `resuming from ${manifestPath(ckptDir, 'last')} at step ${resume.manifest.state.step}`,
      });
    } catch (e) {
      // An unusable checkpoint must not fail every retry: start again and say why.
      sink.event('info', { message: `cannot resume (${(e as Error).message}); starting from the beginning` });
    }
  } else if (attempt > 1) {
    sink.event('info', { message: `attempt ${attempt} found no last checkpoint; starting from the beginning` });
  }
  let init: Loaded | null = null;
  if (!resume && clip) {
    init = clip.loaded;
  } else if (!resume && params.init !== 'none') {
    const file =
      params.init === 'base'
        ? (
            await runPretrain({
              runsDir,
              preset: params.modelPreset,
              shouldStop: () => stop,
              log: (l) => process.stderr.write(`[pretrain] ${l}\n`),
            })
          ).checkpointPath
        : resolveInit(params.init);
    init = loadCheckpoint(file);
    sink.event('info', { init: file });
  }
  if (stop) return 143;
  const source = resume ?? init;
  const size = source?.manifest.config ?? params.model;
  // A checkpoint of a run fine-tuned from real CLIP weights names its BPE vocabulary.
  const bpe = source?.manifest.tokenizer ?? clip?.tokenizerSource ?? undefined;
  const tokenizer: Tokenizer | undefined =
    clip?.tokenizer ?? (bpe ? loadClipTokenizer(findVocab(bpe.vocab), size.contextLength) : undefined);
  const bundle = await loadDataset({
    dataset: params.dataset,
    imageSize: size.imageSize,
    contextLength: size.contextLength,
    ...(tokenizer ? { tokenizer } : source ? { vocab: source.manifest.vocab } : {}),
    ...(size.imageMean && size.imageStd ? { normalize: { mean: size.imageMean, std: size.imageStd } } : {}),
    cacheDir: path.join(runsDir, 'cache'),
    ...(params.max_train_images ? { maxTrainImages: params.max_train_images } : {}),
    ...(params.max_val_images ? { maxValImages: params.max_val_images } : {}),
  });
  if (bundle.problems.length)
    sink.event('info', { data_problems: bundle.problems.slice(0, 50), data_problem_count: bundle.problems.length });
  if (stop) return 143;
  const r = await train({
    params,
    bundle,
    sink,
    checkpointDir: ckptDir,
    init,
    resume,
    shouldStop: () => stop,
    info: { backend: backend.loaded },
    ...(bpe ? { tokenizerSource: bpe } : {}),
    ...(clip
      ? {
          exportWeights: (kind: 'best' | 'final', p: Parameters<typeof exportClipWeights>[1]) =>
            exportClipWeights(clip, p, path.join(ckptDir, `${kind}.safetensors`)),
        }
      : {}),
  });
  disposeParams(r.params);
  for (const l of new Set([init, resume, clip?.loaded])) if (l) disposeLoaded(l);
  sink.close();
  return r.reason === 'interrupted' ? 143 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof PretrainInterrupted) process.exit(143);
    if (e instanceof ParamError || e instanceof UsageError) {
      process.stderr.write(`clipsweep trainer: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`clipsweep trainer: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
