// Sweep-level parts of the model: ranking, the best configuration, the named comparison, the
// lr x batch-size heatmaps and the status summary. Pure.
import type { RunDiagnostics } from './diagnostics.js';
import type { ConfigDiagnostics, ConfigReport, RunReport } from './model.js';
import { BATCH_PARAM, type ObjectiveChoice } from './objective.js';
import { observe, type Observations } from './observations.js';
import type { Thresholds, XAxis } from './options.js';
import { mean } from './series.js';

export const REPORT_SCHEMA = 1;
const FAILED = ['failed', 'interrupted', 'infeasible'];

export interface Heatmap {
  warmup: string;
  lrs: number[];
  batch_sizes: number[];
  /** [batch index][lr index]: mean over the configurations in that cell (other parameters averaged). */
  objective: (number | null)[][];
  final_gap: (number | null)[][];
}

export interface Comparison {
  configurations: string[];
  reference: string;
  basis: 'named' | 'first-vs-best';
  changed_params: { key: string; values: unknown[] }[];
  rows: {
    key: keyof ConfigDiagnostics | 'objective';
    label: string;
    better: 'lower' | 'higher' | null;
    values: (number | null)[];
  }[];
}

/** A TPE search's runs in the order proposed, with the objective's best value so far. */
export interface SearchTrials {
  metric: string;
  mode: 'min' | 'max';
  trials: {
    trial: number;
    id: string;
    name: string;
    origin: string | null;
    status: string;
    value: number | null;
    best: number | null;
  }[];
}

export interface ReportModel {
  schema: number;
  sweep: { name: string; created_at: number; updated_at: number };
  generated_at: number;
  objective: ObjectiveChoice;
  thresholds: Thresholds;
  status: {
    counts: Record<string, number>;
    total: number;
    all_failed: boolean;
    running: number;
    message: string | null;
  };
  best: string | null;
  batch_dependent_metrics: string[];
  configurations: ConfigReport[];
  runs: RunReport[];
  comparison: Comparison | null;
  heatmaps: Heatmap[];
  /** The three observations in words, per named configuration (the best one when none is named). */
  observations: Observations[];
  /** The checkpoint the best configuration means: its runs' best val-loss steps, when it overfits. */
  best_checkpoint: { configuration: string; overfits: boolean; runs: { run: string; step: number }[] } | null;
  /** Parameters equal in every configuration (shown once), and the keys that vary (shown per row). */
  params_constant: Record<string, unknown>;
  params_varying: string[];
  /** The charts' x axis: the default, and every axis all configurations can be drawn on. */
  x_axis: { default: XAxis; available: XAxis[] };
  /** Child-seconds spent, against an estimate of what running every run to its end would cost. */
  compute: { child_seconds: number; full_estimate_seconds: number; pruned_runs: number; saved_fraction: number | null };
  /** Null unless the runs were proposed by a search (TPE). */
  search: SearchTrials | null;
  warnings: string[];
}

export interface AssembleInput {
  sweep: ReportModel['sweep'];
  now: number;
  objective: ObjectiveChoice;
  thresholds: Thresholds;
  batchDependent: string[];
  configurations: ConfigReport[];
  runs: RunReport[];
  /** `--x`: requested x axis; default epochs when the sweep varies batch_size and epochs are known. */
  xAxis?: XAxis;
  search?: SearchTrials | null;
}

export function assembleModel(input: AssembleInput): ReportModel {
  const { objective } = input;
  const configs = input.configurations;
  const ranked = objective.ranked
    ? configs
        // A configuration whose runs all failed is listed, not ranked: its numbers stop mid-way.
        .filter(
          (c) => c.objective.mean !== null && FAILED.reduce((n, f) => n + (c.status_counts[f] ?? 0), 0) < c.runs.length,
        )
        .sort((a, b) =>
          objective.direction === 'min' ? a.objective.mean! - b.objective.mean! : b.objective.mean! - a.objective.mean!,
        )
    : [];
  ranked.forEach((c, i) => (c.rank = i + 1));
  // Ranked first, in rank order; then the rest in sweep order.
  const ordered = [...ranked, ...configs.filter((c) => c.rank === null)];

  const counts: Record<string, number> = {};
  for (const r of input.runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const total = input.runs.length;
  const failedLike = (counts['failed'] ?? 0) + (counts['interrupted'] ?? 0) + (counts['infeasible'] ?? 0);
  const allFailed = total > 0 && failedLike === total;
  const running = counts['running'] ?? 0;
  const warnings: string[] = [];
  let message: string | null = null;
  if (total === 0) message = 'This sweep has no runs.';
  else if (allFailed)
    message = `All ${total} runs failed; there is nothing to rank. Each run's failure reason is listed below.`;
  else if (running > 0 || (counts['queued'] ?? 0) > 0) {
    message = `The sweep is still in progress (${running} running, ${counts['queued'] ?? 0} queued): curves are partial and diagnostics provisional.`;
  }
  if (message) warnings.push(message);
  if (objective.note) warnings.push(objective.note);

  return {
    schema: REPORT_SCHEMA,
    sweep: input.sweep,
    generated_at: input.now,
    objective,
    thresholds: input.thresholds,
    status: { counts, total, all_failed: allFailed, running, message },
    best: ranked[0]?.id ?? null,
    batch_dependent_metrics: input.batchDependent,
    configurations: ordered,
    runs: input.runs,
    comparison: compare(configs, ranked[0] ?? null, objective),
    heatmaps: heatmaps(configs),
    observations: observations(configs, input.runs, ranked[0] ?? null, input.thresholds),
    best_checkpoint: bestCheckpoint(ranked[0] ?? null, input.runs),
    ...paramsSplit(configs),
    x_axis: xAxis(configs, input.xAxis),
    compute: compute(input.runs),
    search: input.search ?? null,
    warnings,
  };
}

/** A pruned run's full cost is extrapolated from its own pace: duration x total / steps done. */
function compute(runs: RunReport[]): ReportModel['compute'] {
  let spent = 0;
  let full = 0;
  let pruned = 0;
  for (const run of runs) {
    const seconds = run.diagnostics.duration_s ?? 0;
    spent += seconds;
    const done = run.diagnostics.last_step;
    if (run.status === 'pruned') {
      pruned++;
      full += run.total_steps !== null && done !== null && done > 0 ? (seconds * run.total_steps) / done : seconds;
    } else full += seconds;
  }
  return {
    child_seconds: spent,
    full_estimate_seconds: full,
    pruned_runs: pruned,
    saved_fraction: full > 0 && pruned > 0 ? 1 - spent / full : null,
  };
}

const COMPARED: { key: keyof ConfigDiagnostics; label: string; better: 'lower' | 'higher' | null }[] = [
  { key: 'best_val_loss', label: 'best val loss', better: 'lower' },
  { key: 'best_val_step', label: 'best val step', better: null },
  { key: 'overfit_onset_step', label: 'overfitting onset step', better: null },
  { key: 'gap_at_best', label: 'gap at best step', better: 'lower' },
  { key: 'final_gap', label: 'final gap', better: 'lower' },
  { key: 'scale_min', label: 'logit scale min', better: null },
  { key: 'scale_final', label: 'logit scale final', better: null },
  { key: 'scale_dip', label: 'logit scale dip (fraction)', better: 'lower' },
  { key: 'scale_rebound_runs', label: 'runs with scale rebound', better: 'lower' },
  { key: 'retain_loss_rise', label: 'retain/loss rise (forgetting)', better: 'lower' },
  { key: 'diverged_runs', label: 'diverged runs', better: 'lower' },
  { key: 'duration_s', label: 'duration (s)', better: null },
];

/** Named configurations side by side (the first named one is the reference), else first vs best. */
function compare(configs: ConfigReport[], best: ConfigReport | null, objective: ObjectiveChoice): Comparison | null {
  const named = configs.filter((c) => c.named);
  let chosen: ConfigReport[];
  let basis: Comparison['basis'] = 'named';
  if (named.length >= 2) chosen = named.slice(0, 6);
  else {
    basis = 'first-vs-best';
    const first = configs[0];
    if (!first || !best || best === first) return null;
    chosen = [first, best];
  }
  const keys = [...new Set(chosen.flatMap((c) => Object.keys(c.params)))].sort();
  const changed = keys
    .map((key) => ({ key, values: chosen.map((c) => c.params[key] ?? null) }))
    .filter((p) => new Set(p.values.map((v) => JSON.stringify(v))).size > 1);
  const rows: Comparison['rows'] = [
    {
      key: 'objective',
      label: `objective (${objective.key})`,
      better: objective.direction === 'min' ? 'lower' : 'higher',
      values: chosen.map((c) => c.objective.mean),
    },
    ...COMPARED.map((row) => ({ ...row, values: chosen.map((c) => c.diagnostics[row.key] as number | null) })),
  ];
  return { configurations: chosen.map((c) => c.id), reference: chosen[0]!.id, basis, changed_params: changed, rows };
}

function heatmaps(configs: ConfigReport[]): Heatmap[] {
  const usable = configs.filter((c) => typeof c.params['lr'] === 'number' && typeof c.params[BATCH_PARAM] === 'number');
  if (usable.length < 2) return [];
  const byWarmup = new Map<string, ConfigReport[]>();
  for (const c of usable) {
    const w = c.params['warmup'] === undefined ? 'any' : String(c.params['warmup']);
    byWarmup.set(w, [...(byWarmup.get(w) ?? []), c]);
  }
  return [...byWarmup.entries()].map(([warmup, cs]) => {
    const lrs = [...new Set(cs.map((c) => c.params['lr'] as number))].sort((a, b) => a - b);
    const batches = [...new Set(cs.map((c) => c.params[BATCH_PARAM] as number))].sort((a, b) => a - b);
    const cell = (pick: (c: ConfigReport) => number | null) =>
      batches.map((b) =>
        lrs.map((lr) => {
          const values = cs
            .filter((c) => c.params['lr'] === lr && c.params[BATCH_PARAM] === b)
            .map(pick)
            .filter((v): v is number => v !== null);
          return values.length === 0 ? null : mean(values);
        }),
      );
    return {
      warmup,
      lrs,
      batch_sizes: batches,
      objective: cell((c) => c.objective.mean),
      final_gap: cell((c) => c.diagnostics.final_gap),
    };
  });
}

export type { RunDiagnostics };

function runsOf(c: ConfigReport, runs: RunReport[]): RunReport[] {
  const names = new Set(c.runs);
  return runs.filter((r) => r.configuration === c.name && names.has(r.name));
}

function observations(
  configs: ConfigReport[],
  runs: RunReport[],
  best: ConfigReport | null,
  t: Thresholds,
): Observations[] {
  const named = configs.filter((c) => c.named);
  const chosen = named.length > 0 ? named : best ? [best] : [];
  return chosen.map((c) =>
    observe(
      c.name,
      runsOf(c, runs).map((r) => ({ seed: r.params['seed'], diagnostics: r.diagnostics })),
      t,
    ),
  );
}

function bestCheckpoint(best: ConfigReport | null, runs: RunReport[]): ReportModel['best_checkpoint'] {
  if (!best) return null;
  const mine = runsOf(best, runs);
  return {
    configuration: best.name,
    overfits: best.diagnostics.overfit_onset_step !== null,
    runs: mine.flatMap((r) =>
      r.diagnostics.best_val_step === null ? [] : [{ run: r.name, step: r.diagnostics.best_val_step }],
    ),
  };
}

function paramsSplit(configs: ConfigReport[]): Pick<ReportModel, 'params_constant' | 'params_varying'> {
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c.params)))].sort();
  const constant: Record<string, unknown> = {};
  const varying: string[] = [];
  for (const key of keys) {
    const values = new Set(configs.map((c) => (key in c.params ? JSON.stringify(c.params[key]) : '\u0000absent')));
    // With a single configuration nothing varies: its parameters are all shown once.
    if (values.size === 1 && configs.every((c) => key in c.params)) constant[key] = configs[0]!.params[key];
    else varying.push(key);
  }
  return { params_constant: constant, params_varying: varying };
}

function xAxis(configs: ConfigReport[], requested: XAxis | undefined): ReportModel['x_axis'] {
  const drawn = configs.filter((c) => Object.keys(c.series).length > 0);
  const available: XAxis[] = ['step'];
  if (drawn.length > 0 && drawn.every((c) => c.x_per_step.epoch !== null)) available.push('epoch');
  if (drawn.length > 0 && drawn.every((c) => c.x_per_step.samples !== null)) available.push('samples');
  const batches = new Set(configs.map((c) => JSON.stringify(c.params[BATCH_PARAM])));
  const fallback: XAxis = batches.size > 1 && available.includes('epoch') ? 'epoch' : 'step';
  return { default: requested !== undefined && available.includes(requested) ? requested : fallback, available };
}
