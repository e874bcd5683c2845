// The report model: everything every renderer shows, computed once. Pure functions only; the
// loader (load.ts) feeds them one configuration at a time so full series never pile up.
import { styleOf } from './configs.js';
import { diagnose, KEYS, type RunDiagnostics, type RunFacts } from './diagnostics.js';
import type { Objective, Thresholds } from './options.js';
import { BATCH_PARAM } from './objective.js';
import { lttb, mean, round4, seedBand, std, type DrawSeries, type Series } from './series.js';

/** Points per drawn series: enough for a 1400 px wide chart, small enough for a 10 MB page. */
export const DRAW_POINTS = 300;
export const DRAWN_KEYS: readonly string[] = [KEYS.train, KEYS.val, KEYS.trainEval, KEYS.scale, KEYS.lr];

export interface RunReport {
  id: string;
  name: string;
  configuration: string;
  params: Record<string, unknown>;
  status: string;
  attempt: number;
  failure_kind: string | null;
  /** Where the run came from (grid, config; random or tpe in a TPE search); null if not recorded. */
  origin: string | null;
  reason: string | null;
  stderr_tail: string | null;
  started_at: number | null;
  ended_at: number | null;
  total_steps: number | null;
  summary: unknown;
  metrics: string[];
  diagnostics: RunDiagnostics;
}

export interface ConfigDiagnostics {
  best_val_step: number | null;
  best_val_loss: number | null;
  /** The earliest onset among the seeds. */
  overfit_onset_step: number | null;
  overfit_runs: number;
  gap_at_best: number | null;
  final_gap: number | null;
  scale_min: number | null;
  scale_final: number | null;
  scale_dip: number | null;
  retain_loss_rise: number | null;
  scale_rebound_runs: number;
  diverged_runs: number;
  early_stop_runs: number;
  duration_s: number | null;
  partial: boolean;
  retrieval_at_best: Record<string, number>;
  retrieval_final: Record<string, number>;
}

export interface ConfigReport {
  id: string;
  name: string;
  named: boolean;
  color: string;
  dash: number[];
  params: Record<string, unknown>;
  seeds: unknown[];
  runs: string[];
  status_counts: Record<string, number>;
  rank: number | null;
  objective: { mean: number | null; std: number | null; n: number };
  diagnostics: ConfigDiagnostics;
  /** Converts a step to epochs / samples seen (null where the runs did not say): the charts' x axes. */
  x_per_step: { epoch: number | null; samples: number | null };
  /** Drawn series by metric key (plus "gap"); a band (lo/hi) where there are several seeds. */
  series: Record<string, DrawSeries>;
}

export interface RunInput {
  id: string;
  name: string;
  params: Record<string, unknown>;
  status: string;
  attempt: number;
  failureKind: string | null;
  origin: string | null;
  reason: string | null;
  stderrTail: string | null;
  startedAt: number | null;
  endedAt: number | null;
  totalSteps: number | null;
  summary: unknown;
  earlyStop: boolean;
  /** From the trainer's `started` event; null when it did not say. */
  stepsPerEpoch?: number | null;
  series: ReadonlyMap<string, Series>;
}

export interface SummarizeContext {
  thresholds: Thresholds;
  objective: Objective;
  now: number;
}

/** One configuration from its runs' full series: diagnostics per run, drawn series per config. */
export function summarizeConfig(
  index: number,
  name: string,
  named: boolean,
  params: Record<string, unknown>,
  runs: readonly RunInput[],
  ctx: SummarizeContext,
): { config: ConfigReport; runs: RunReport[] } {
  const id = `c${index + 1}`;
  const gaps: Series[] = [];
  const reports = runs.map((run): RunReport => {
    const facts: RunFacts = { ...run, earlyStop: run.earlyStop };
    const { diagnostics, gap } = diagnose(facts, run.series, ctx.thresholds, ctx.objective, ctx.now);
    gaps.push(gap);
    return {
      id: run.id,
      name: run.name,
      configuration: name,
      params: run.params,
      status: run.status,
      attempt: run.attempt,
      failure_kind: run.failureKind,
      origin: run.origin,
      reason: run.reason,
      stderr_tail: run.stderrTail,
      started_at: run.startedAt,
      ended_at: run.endedAt,
      total_steps: run.totalSteps,
      summary: run.summary,
      metrics: [...run.series.keys()].sort(),
      diagnostics,
    };
  });

  const series: Record<string, DrawSeries> = {};
  const draw = (key: string, members: Series[]) => {
    const present = members.filter((m) => m.steps.length > 0);
    if (present.length === 0) return;
    const drawn =
      present.length === 1 ? lttb(present[0]!.steps, present[0]!.values, DRAW_POINTS) : seedBand(present, DRAW_POINTS);
    if (drawn.x.length === 0) return;
    series[key] = roundSeries(drawn);
  };
  for (const key of DRAWN_KEYS)
    draw(
      key,
      runs.map((r) => r.series.get(key) ?? { steps: [], values: [] }),
    );
  draw('gap', gaps);

  const d = reports.map((r) => r.diagnostics);
  const nums = (pick: (x: RunDiagnostics) => number | null) =>
    d.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
  const avg = (pick: (x: RunDiagnostics) => number | null) => {
    const values = nums(pick);
    return values.length === 0 ? null : mean(values);
  };
  const onsets = nums((x) => x.overfit_onset_step);
  const objectives = nums((x) => x.objective);
  const statusCounts: Record<string, number> = {};
  for (const r of runs) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
  const style = styleOf(index);

  return {
    runs: reports,
    config: {
      id,
      name,
      named,
      color: style.color,
      dash: style.dash,
      params,
      seeds: runs.map((r) => r.params['seed']).filter((s) => s !== undefined),
      runs: runs.map((r) => r.name),
      status_counts: statusCounts,
      rank: null,
      objective: {
        mean: objectives.length === 0 ? null : mean(objectives),
        std: objectives.length === 0 ? null : std(objectives),
        n: objectives.length,
      },
      diagnostics: {
        best_val_step: roundStep(avg((x) => x.best_val_step)),
        best_val_loss: avg((x) => x.best_val_loss),
        overfit_onset_step: onsets.length === 0 ? null : Math.min(...onsets),
        overfit_runs: onsets.length,
        gap_at_best: avg((x) => x.gap_at_best),
        final_gap: avg((x) => x.final_gap),
        scale_min: avg((x) => x.scale_min),
        scale_final: avg((x) => x.scale_final),
        scale_dip: avg((x) => x.scale_dip),
        retain_loss_rise: avg((x) => x.retain_loss_rise),
        scale_rebound_runs: d.filter((x) => x.scale_rebound).length,
        diverged_runs: d.filter((x) => x.diverged).length,
        early_stop_runs: d.filter((x) => x.early_stop).length,
        duration_s: avg((x) => x.duration_s),
        partial: d.some((x) => x.partial),
        retrieval_at_best: meanRecords(d.map((x) => x.retrieval_at_best)),
        retrieval_final: meanRecords(d.map((x) => x.retrieval_final)),
      },
      x_per_step: xPerStep(runs),
      series,
    },
  };
}

/** One step in epochs (1 / steps per epoch) and in samples (the batch size), when every run agrees. */
function xPerStep(runs: readonly RunInput[]): ConfigReport['x_per_step'] {
  const spe = new Set(runs.map((r) => r.stepsPerEpoch ?? null));
  const batch = new Set(runs.map((r) => r.params[BATCH_PARAM]));
  const one = <T>(s: Set<T>): T | undefined => (s.size === 1 ? [...s][0] : undefined);
  const e = one(spe);
  const b = one(batch);
  return {
    epoch: typeof e === 'number' && e > 0 ? 1 / e : null,
    samples: typeof b === 'number' && Number.isFinite(b) && b > 0 ? b : null,
  };
}

function roundStep(v: number | null): number | null {
  return v === null ? null : Math.round(v);
}

function roundSeries(s: DrawSeries): DrawSeries {
  const out: DrawSeries = { x: s.x, y: s.y.map(round4) };
  if (s.lo && s.hi) {
    out.lo = s.lo.map(round4);
    out.hi = s.hi.map(round4);
  }
  return out;
}

function meanRecords(records: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))].sort();
  return Object.fromEntries(keys.map((k) => [k, mean(records.map((r) => r[k] ?? NaN))]));
}
