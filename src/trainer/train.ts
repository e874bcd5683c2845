// The training loop: batches, AdamW steps under the schedule, logging, evaluation, early stopping
// and checkpoints. It takes everything as arguments (no environment, no process state), so the
// tests drive it in-process and main.ts only wires it to the protocol.
import type { DatasetBundle } from './data/types.js';
import type { TrainParams } from './params.js';
import type { ModelConfig } from '../model/config.js';
import { ClipModel, countParams, disposeParams, initParams, type ParamMap } from './model/clip.js';
import { AdamW, openClipAdamW } from './optim.js';
import { Stepper } from './step.js';
import { lrAt, resolveWarmup, type Schedule } from './schedule.js';
import { batchImages, captionsByImage, makeBatch, pickCaptions, stepsPerEpoch } from './batches.js';
import { evalSet, evaluate, type EvalSet } from './evaluate.js';
import { saveCheckpoint, restore, type Loaded, type TokenizerSource, type TrainState } from './checkpoint.js';
import type { MetricsSink } from './protocol.js';
import { hashInts, makeRng, permutation, Stream } from './rng.js';

export interface TrainOptions {
  params: TrainParams;
  bundle: DatasetBundle;
  sink: MetricsSink;
  /** Where best/last checkpoints go; null: none. */
  checkpointDir: string | null;
  /** Weights to start from (fine-tuning); its model config wins. */
  init?: Loaded | null;
  /** A `last` checkpoint of this same run to continue. */
  resume?: Loaded | null;
  /** Polled between steps (SIGTERM): saves `last` and returns "interrupted". */
  shouldStop?: () => boolean;
  /** Tests: behave as if stopped after this many steps. */
  stopAfterSteps?: number;
  info?: Record<string, unknown>;
  /** A non-word tokenizer (CLIP BPE), recorded in checkpoints instead of a vocabulary. */
  tokenizerSource?: TokenizerSource;
  /** Writes the weights in their original file format (real CLIP); returns the path. */
  exportWeights?: (kind: 'best' | 'final', params: ParamMap) => string;
}

export interface TrainResult {
  reason: 'completed' | 'early_stop' | 'diverged' | 'interrupted';
  step: number;
  totalSteps: number;
  summary: Record<string, number>;
  /** The trained model's parameters (caller disposes). */
  params: ParamMap;
  config: ModelConfig;
}

export function totalStepsFor(p: TrainParams, trainCount: number): number {
  const spe = Math.floor(trainCount / p.batch_size);
  if (spe < 1) throw new Error(`batch_size ${p.batch_size} exceeds the ${trainCount} training images`);
  return p.steps ?? Math.max(1, Math.round((p.epochs ?? 10) * spe));
}

function better(mode: 'min' | 'max', v: number, best: number | null, minDelta: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (best === null) return true;
  return mode === 'min' ? v < best - minDelta : v > best + minDelta;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { params: p, bundle, sink } = o;
  const tok = bundle.tokenizer;
  const config: ModelConfig = o.resume?.manifest.config ??
    o.init?.manifest.config ?? { ...p.model, vocabSize: tok.vocabSize };
  if (config.vocabSize < tok.vocabSize)
    throw new Error(`the model's vocabulary (${config.vocabSize}) is smaller than the tokenizer's (${tok.vocabSize})`);
  const totalSteps = totalStepsFor(p, bundle.train.count);
  const schedule: Schedule = {
    kind: p.schedule,
    baseLr: p.lr,
    warmup: resolveWarmup(p.warmup, totalSteps),
    totalSteps,
  };
  const spe = stepsPerEpoch(bundle.train, p.batch_size);
  // "2 epochs" evaluates at the same points of the data for every batch size of a grid.
  const evalEvery =
    typeof p.eval_every === 'number' ? p.eval_every : Math.max(1, Math.round(parseFloat(p.eval_every) * spe));

  const params = initParams(config, p.seed);
  const model = new ClipModel(config, params);
  const frozen = (name: string) =>
    (p.lock.image && name.startsWith('visual.')) || (p.lock.text && name.startsWith('text.'));
  const opt = new AdamW(params, openClipAdamW(p.weight_decay), (name) => !frozen(name));
  const stepper = new Stepper(model, opt, (name) => !frozen(name));
  const state: TrainState = { step: 0, totalSteps, bestValue: null, bestStep: null, evalsWithoutImprovement: 0 };
  if (o.resume) {
    restore(o.resume, params, opt);
    Object.assign(state, o.resume.manifest.state, { totalSteps });
  } else if (o.init) {
    restore(o.init, params, null);
  }

  // Evaluation sets: validation, a fixed training subset (the same images for every run, so
  // train_eval/ compares like with like), and the pretraining domain when present.
  const te = Math.min(p.train_eval_images ?? bundle.val.count, bundle.train.count);
  const sets: [string, EvalSet][] = [
    ['val', evalSet(bundle.val)],
    [
      'train_eval',
      evalSet(bundle.train, permutation(bundle.train.count, makeRng(0, Stream.trainEval)).slice(0, te).sort()),
    ],
  ];
  if (bundle.retainVal) sets.push(['retain', evalSet(bundle.retainVal)]);
  const es = p.early_stopping;
  const bestMetric = es?.metric ?? 'val/loss';
  const bestMode = es?.mode ?? 'min';
  const byImage = captionsByImage(bundle.train);
  const ckptInfo = { params: p, ...(o.info ?? {}) };
  const save = (kind: string) => {
    if (!o.checkpointDir) return;
    const path = saveCheckpoint(o.checkpointDir, kind, {
      config,
      vocab: tok.vocab,
      ...(o.tokenizerSource ? { tokenizer: o.tokenizerSource } : {}),
      params,
      optimizer: kind === 'last' ? opt : null,
      state,
      info: ckptInfo,
    });
    sink.event('checkpoint', { step: state.step, path, kind });
    if (kind === 'best') exportWeights('best');
  };
  const exportWeights = (kind: 'best' | 'final') => {
    if (!o.exportWeights) return;
    sink.event('checkpoint', { step: state.step, path: o.exportWeights(kind, params), kind: `${kind}.safetensors` });
  };

  sink.event('started', {
    total_steps: totalSteps,
    ...(state.step > 0 ? { resumed_from_step: state.step } : {}),
    info: {
      param_count: countParams(params),
      steps_per_epoch: spe,
      warmup_steps: schedule.warmup,
      eval_every_steps: evalEvery,
      model: config,
      data: bundle.description,
      ...(o.info ?? {}),
    },
  });

  let last: Record<string, number> = {};
  const runEval = (): boolean => {
    const m: Record<string, number> = {};
    for (const [prefix, set] of sets) Object.assign(m, evaluate(model, set, tok.eotToken, p.eval_batch_size, prefix));
    m.logit_scale = Math.exp(params.get('logit_scale')!.dataSync()[0]!);
    sink.metrics(state.step, m, state.step / spe);
    last = m;
    const v = m[bestMetric];
    if (v === undefined)
      throw new Error(`early_stopping.metric ${bestMetric} is not computed (known: ${Object.keys(m).join(', ')})`);
    if (better(bestMode, v, state.bestValue, es?.min_delta ?? 0)) {
      state.bestValue = v;
      state.bestStep = state.step;
      state.evalsWithoutImprovement = 0;
      save('best');
    } else {
      state.evalsWithoutImprovement += 1;
    }
    return es !== null && state.evalsWithoutImprovement >= es.patience;
  };

  let reason: TrainResult['reason'] = 'completed';
  // Step 0 gives the curves their starting point; a run resumed after its last step only
  // re-evaluates, so that it still finishes with a summary.
  if ((state.step === 0 || state.step >= totalSteps) && runEval()) reason = 'early_stop';
  let windowLoss = 0;
  let windowSteps = 0;
  let windowMs = 0;
  while (reason === 'completed' && state.step < totalSteps) {
    if (o.shouldStop?.() || (o.stopAfterSteps !== undefined && state.step >= o.stopAfterSteps)) {
      reason = 'interrupted';
      break;
    }
    const t0 = performance.now();
    const step = state.step;
    const lr = lrAt(schedule, step);
    const imgs = batchImages(bundle.train, p.batch_size, p.seed, step);
    const caps = pickCaptions(byImage, imgs, makeRng(p.seed, Stream.caption, step));
    const batch = makeBatch(
      bundle.train,
      config,
      tok.eotToken,
      imgs,
      caps,
      p.augment,
      makeRng(p.seed, Stream.augment, step),
    );
    const loss = stepper.step(batch, lr, p.dropout, hashInts(p.seed, Stream.dropout, step), p.grad_clip);
    batch.dispose();
    state.step += 1;
    windowLoss += loss;
    windowSteps += 1;
    windowMs += performance.now() - t0;
    if (state.step % p.log_every === 0 || state.step === totalSteps) {
      sink.metrics(
        state.step,
        {
          'train/loss': windowLoss / windowSteps,
          lr,
          logit_scale: Math.exp(params.get('logit_scale')!.dataSync()[0]!),
          'train/samples_per_sec': (windowSteps * p.batch_size) / (windowMs / 1000),
        },
        state.step / spe,
      );
      windowLoss = windowSteps = windowMs = 0;
    }
    if (!Number.isFinite(loss)) {
      // NaN weights never recover: record the step and stop (a diverged run is a result).
      sink.metrics(state.step, { 'train/loss': loss, lr }, state.step / spe);
      reason = 'diverged';
      break;
    }
    if (state.step % evalEvery === 0 || state.step === totalSteps) {
      if (runEval()) reason = 'early_stop';
      save('last');
    }
    // Let signal handlers run between steps.
    await new Promise((r) => setImmediate(r));
  }
  if (reason === 'interrupted') save('last');
  else exportWeights('final');

  const summary: Record<string, number> = { ...last, steps: state.step };
  if (state.bestValue !== null) summary[`best/${bestMetric}`] = state.bestValue;
  if (state.bestStep !== null) summary.best_step = state.bestStep;
  if (reason !== 'interrupted') sink.event('finished', { summary, reason });
  model.dispose();
  opt.dispose();
  return { reason, step: state.step, totalSteps, summary, params, config };
}

export { disposeParams };
