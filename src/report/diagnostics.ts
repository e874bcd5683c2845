// Per-run diagnostics, computed once from the full series (never from the drawn, downsampled
// ones). Pure: everything a diagnostic needs comes in as arguments.
import type { Objective, Thresholds } from './options.js';
import { indexAtOrBefore, trailingMean, type Series } from './series.js';

export const KEYS = {
  train: 'train/loss',
  val: 'val/loss',
  trainEval: 'train_eval/loss',
  retain: 'retain/loss',
  scale: 'logit_scale',
  lr: 'lr',
} as const;

export const RETRIEVAL_KEY = /^val\/(i2t|t2i)_R@\d+$/;

/** The facts about one run the report shows everywhere; snake_case as report.json writes them. */
export interface RunDiagnostics {
  best_val_step: number | null;
  best_val_loss: number | null;
  overfit_onset_step: number | null;
  gap_at_best: number | null;
  final_gap: number | null;
  /** What the gap subtracts from val loss: train_eval/loss, or the smoothed train/loss. */
  gap_source: 'train_eval' | 'smoothed_train' | null;
  /** Highest val loss after the best step, as a fraction above the best (0.05: 5 %), and its step. */
  val_rise_after_best: number | null;
  val_rise_step: number | null;
  /** The train reference (train_eval/loss, else smoothed train loss) at the best val step and at the end. */
  train_ref_at_best: number | null;
  train_ref_final: number | null;
  /** retain/loss (the pretraining domain: forgetting) at the first and the last evaluation. */
  retain_loss_start: number | null;
  retain_loss_final: number | null;
  retain_loss_rise: number | null;
  scale_start: number | null;
  scale_min: number | null;
  scale_min_step: number | null;
  scale_final: number | null;
  scale_max: number | null;
  scale_rebound: boolean;
  scale_rebound_step: number | null;
  /** Largest fall below the running maximum, as a fraction of it (0.2: fell 20 %). */
  scale_dip: number | null;
  diverged: boolean;
  divergence_step: number | null;
  divergence_kind: 'nan' | 'inf' | 'explode' | null;
  divergence_metric: string | null;
  early_stop: boolean;
  failure_reason: string | null;
  duration_s: number | null;
  last_step: number | null;
  /** The run is still running: every value above is provisional. */
  partial: boolean;
  objective: number | null;
  objective_step: number | null;
  /** Recall@k at the best val step and at the last evaluation, by metric key. */
  retrieval_at_best: Record<string, number>;
  retrieval_final: Record<string, number>;
  /**
   * Recall@k keys that were higher at the last evaluation than at the best val-loss step, with
   * both values: recall kept improving while validation loss said the model got worse.
   */
  recall_rising_after_best: Record<string, { from: number; to: number }>;
}

export interface RunFacts {
  status: string;
  startedAt: number | null;
  endedAt: number | null;
  failureKind: string | null;
  reason: string | null;
  earlyStop: boolean;
}

export interface DiagnosticsResult {
  diagnostics: RunDiagnostics;
  /** val minus train reference at every val step, for the gap chart. */
  gap: Series;
}

export function diagnose(
  facts: RunFacts,
  series: ReadonlyMap<string, Series>,
  thresholds: Thresholds,
  objective: Objective,
  now: number,
): DiagnosticsResult {
  const train = series.get(KEYS.train);
  const trainSmooth = train
    ? { steps: train.steps, values: trailingMean(train.values, thresholds.trainSmoothWindow) }
    : undefined;
  const trainEval = series.get(KEYS.trainEval);
  // Reference for "train kept falling" and for the gap: the clean train_eval when recorded.
  const trainRef = trainEval && trainEval.steps.length > 0 ? trainEval : trainSmooth;
  const val = finite(series.get(KEYS.val));

  let bestIdx = -1;
  for (let i = 0; i < val.values.length; i++) if (bestIdx < 0 || val.values[i]! < val.values[bestIdx]!) bestIdx = i;
  const bestStep = bestIdx >= 0 ? val.steps[bestIdx]! : null;

  const gap = gapSeries(val, trainRef);
  const gapAt = (step: number | null): number | null => {
    if (step === null) return null;
    const i = gap.steps.indexOf(step);
    return i >= 0 ? gap.values[i]! : null;
  };

  const scale = scaleFacts(finite(series.get(KEYS.scale)), thresholds);
  const divergence = findDivergence(series, trainSmooth, thresholds);
  const obj = objectiveOf(series.get(objective.key), objective.direction);
  const evalStep = bestStep ?? obj.step;

  const retrievalAtBest: Record<string, number> = {};
  const retrievalFinal: Record<string, number> = {};
  for (const [key, s] of series) {
    if (!RETRIEVAL_KEY.test(key)) continue;
    const f = finite(s);
    if (f.values.length === 0) continue;
    retrievalFinal[key] = f.values[f.values.length - 1]!;
    const i = evalStep === null ? -1 : indexAtOrBefore(f.steps, evalStep);
    if (i >= 0) retrievalAtBest[key] = f.values[i]!;
  }

  const recallRising: Record<string, { from: number; to: number }> = {};
  if (bestStep !== null) {
    for (const [key, to] of Object.entries(retrievalFinal)) {
      const from = retrievalAtBest[key];
      const s = series.get(key)!;
      const lastEval = s.steps[s.steps.length - 1]!;
      if (from !== undefined && lastEval > bestStep && to > from) recallRising[key] = { from, to };
    }
  }
  const rise = bestIdx >= 0 ? riseAfter(val, bestIdx) : { rise: null, step: null };
  const retain = finite(series.get(KEYS.retain));
  const retainStart = retain.values.length > 0 ? retain.values[0]! : null;
  const retainFinal = retain.values.length > 0 ? retain.values[retain.values.length - 1]! : null;
  const refAt = (step: number | null): number | null => {
    if (!trainRef || step === null) return null;
    const v = at(trainRef, step);
    return Number.isFinite(v) ? v : null;
  };
  const lastValStep = val.steps.length > 0 ? val.steps[val.steps.length - 1]! : null;

  let lastStep: number | null = null;
  for (const s of series.values())
    if (s.steps.length > 0) lastStep = Math.max(lastStep ?? 0, s.steps[s.steps.length - 1]!);

  const ended = facts.status !== 'running' && facts.status !== 'queued';
  const duration =
    facts.startedAt === null
      ? null
      : Math.max(0, (ended && facts.endedAt !== null ? facts.endedAt : now) - facts.startedAt);
  const failed = facts.status === 'failed' || facts.status === 'interrupted' || facts.status === 'infeasible';

  return {
    gap,
    diagnostics: {
      best_val_step: bestStep,
      best_val_loss: bestIdx >= 0 ? val.values[bestIdx]! : null,
      overfit_onset_step: bestIdx >= 0 ? overfitOnset(val, bestIdx, trainRef, thresholds) : null,
      gap_at_best: gapAt(bestStep),
      final_gap: gap.values.length > 0 ? gap.values[gap.values.length - 1]! : null,
      gap_source: gap.values.length === 0 ? null : trainRef === trainEval ? 'train_eval' : 'smoothed_train',
      val_rise_after_best: rise.rise,
      val_rise_step: rise.step,
      train_ref_at_best: refAt(bestStep),
      train_ref_final: refAt(lastValStep),
      retain_loss_start: retainStart,
      retain_loss_final: retainFinal,
      retain_loss_rise: retainStart !== null && retainFinal !== null ? retainFinal - retainStart : null,
      ...scale,
      ...divergence,
      early_stop: facts.earlyStop,
      failure_reason: failed ? [facts.failureKind, facts.reason].filter((s) => s).join(': ') || facts.status : null,
      duration_s: duration,
      last_step: lastStep,
      partial: facts.status === 'running',
      objective: obj.value,
      objective_step: obj.step,
      retrieval_at_best: retrievalAtBest,
      retrieval_final: retrievalFinal,
      recall_rising_after_best: recallRising,
    },
  };
}

/** The highest val loss after the best evaluation, as a fraction above the best; null when the best is the last. */
function riseAfter(val: Series, bestIdx: number): { rise: number | null; step: number | null } {
  const best = val.values[bestIdx]!;
  let top = -1;
  for (let i = bestIdx + 1; i < val.values.length; i++) if (top < 0 || val.values[i]! > val.values[top]!) top = i;
  if (top < 0 || best === 0) return { rise: null, step: null };
  return { rise: (val.values[top]! - best) / Math.abs(best), step: val.steps[top]! };
}

function finite(s: Series | undefined): Series {
  const out: Series = { steps: [], values: [] };
  if (!s) return out;
  for (let i = 0; i < s.values.length; i++) {
    if (Number.isFinite(s.values[i])) {
      out.steps.push(s.steps[i]!);
      out.values.push(s.values[i]!);
    }
  }
  return out;
}

/** Value of a (sorted) series at the last point at or before `step`, NaN when none. */
function at(s: Series, step: number): number {
  const i = indexAtOrBefore(s.steps, step);
  return i >= 0 ? s.values[i]! : NaN;
}

function gapSeries(val: Series, trainRef: Series | undefined): Series {
  const gap: Series = { steps: [], values: [] };
  if (!trainRef) return gap;
  for (let i = 0; i < val.steps.length; i++) {
    const ref = at(trainRef, val.steps[i]!);
    if (Number.isFinite(ref)) {
      gap.steps.push(val.steps[i]!);
      gap.values.push(val.values[i]! - ref);
    }
  }
  return gap;
}

/**
 * The first evaluation after the best one where val loss is more than `overfitRise` above its best
 * and stays there for `overfitPatience` evaluations, while the train reference is lower than at
 * the best step (training kept improving). Without any train series only the rise is required.
 */
function overfitOnset(val: Series, bestIdx: number, trainRef: Series | undefined, t: Thresholds): number | null {
  const best = val.values[bestIdx]!;
  const level = best + t.overfitRise * Math.abs(best);
  const trainAtBest = trainRef ? at(trainRef, val.steps[bestIdx]!) : NaN;
  for (let i = bestIdx + 1; i + t.overfitPatience - 1 < val.values.length; i++) {
    let held = true;
    for (let j = i; j < i + t.overfitPatience; j++) if (!(val.values[j]! > level)) held = false;
    if (!held) continue;
    if (trainRef && Number.isFinite(trainAtBest)) {
      const trainNow = at(trainRef, val.steps[i]!);
      if (!(trainNow < trainAtBest)) continue;
    }
    return val.steps[i]!;
  }
  return null;
}

type ScaleFacts = Pick<
  RunDiagnostics,
  | 'scale_start'
  | 'scale_dip'
  | 'scale_min'
  | 'scale_min_step'
  | 'scale_final'
  | 'scale_max'
  | 'scale_rebound'
  | 'scale_rebound_step'
>;

/** A rebound: the scale fell `scaleDip` below its running maximum, then climbed back near the clamp. */
function scaleFacts(s: Series, t: Thresholds): ScaleFacts {
  if (s.values.length === 0) {
    return {
      scale_start: null,
      scale_dip: null,
      scale_min: null,
      scale_min_step: null,
      scale_final: null,
      scale_max: null,
      scale_rebound: false,
      scale_rebound_step: null,
    };
  }
  let minIdx = 0;
  let max = -Infinity;
  let runningMax = -Infinity;
  let dipped = false;
  let dip = 0;
  let reboundStep: number | null = null;
  const near = t.scaleClamp * (1 - t.reboundTolerance);
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i]!;
    if (v < s.values[minIdx]!) minIdx = i;
    max = Math.max(max, v);
    if (v < runningMax * (1 - t.scaleDip)) dipped = true;
    if (runningMax > 0 && Number.isFinite(runningMax)) dip = Math.max(dip, (runningMax - v) / runningMax);
    if (dipped && reboundStep === null && v >= near) reboundStep = s.steps[i]!;
    runningMax = Math.max(runningMax, v);
  }
  return {
    scale_start: s.values[0]!,
    scale_dip: dip,
    scale_min: s.values[minIdx]!,
    scale_min_step: s.steps[minIdx]!,
    scale_final: s.values[s.values.length - 1]!,
    scale_max: max,
    scale_rebound: reboundStep !== null,
    scale_rebound_step: reboundStep,
  };
}

type DivergenceFacts = Pick<RunDiagnostics, 'diverged' | 'divergence_step' | 'divergence_kind' | 'divergence_metric'>;

/** The earliest non-finite loss or scale, or smoothed train loss exploding past its running minimum. */
function findDivergence(
  series: ReadonlyMap<string, Series>,
  trainSmooth: Series | undefined,
  t: Thresholds,
): DivergenceFacts {
  let found: DivergenceFacts = {
    diverged: false,
    divergence_step: null,
    divergence_kind: null,
    divergence_metric: null,
  };
  const consider = (step: number, kind: 'nan' | 'inf' | 'explode', metric: string) => {
    if (found.divergence_step === null || step < found.divergence_step) {
      found = { diverged: true, divergence_step: step, divergence_kind: kind, divergence_metric: metric };
    }
  };
  for (const key of [KEYS.train, KEYS.val, KEYS.trainEval, KEYS.scale]) {
    const s = series.get(key);
    if (!s) continue;
    const i = s.values.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) consider(s.steps[i]!, Number.isNaN(s.values[i]) ? 'nan' : 'inf', key);
  }
  if (trainSmooth) {
    let runningMin = Infinity;
    for (let i = 0; i < trainSmooth.values.length; i++) {
      const v = trainSmooth.values[i]!;
      if (!Number.isFinite(v)) continue;
      if (runningMin > 0 && runningMin < Infinity && v > t.divergenceFactor * runningMin) {
        consider(trainSmooth.steps[i]!, 'explode', KEYS.train);
        break;
      }
      runningMin = Math.min(runningMin, v);
    }
  }
  return found;
}

function objectiveOf(s: Series | undefined, direction: 'min' | 'max'): { value: number | null; step: number | null } {
  let value: number | null = null;
  let step: number | null = null;
  if (!s) return { value, step };
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i]!;
    if (!Number.isFinite(v)) continue;
    if (value === null || (direction === 'min' ? v < value : v > value)) {
      value = v;
      step = s.steps[i]!;
    }
  }
  return { value, step };
}
