// Sweep-level parts of the model: ranking, the best configuration, the named comparison, the
// lr x batch-size heatmaps and the status summary. Pure.
import type { RunDiagnostics } from './diagnostics.js';
import type { ConfigDiagnostics, ConfigReport, RunReport } from './model.js';
import { BATCH_PARAM, type ObjectiveChoice } from './objective.js';
import type { Thresholds } from './options.js';
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
  rows: { key: keyof ConfigDiagnostics | 'objective'; label: string; better: 'lower' | 'higher' | null; values: (number | null)[] }[];
}

/** A TPE search's runs in the order proposed, with the objective's best value so far. */
export interface SearchTrials {
  metric: string;
  mode: 'min' | 'max';
  trials: { trial: number; id: string; name: string; origin: string | null; status: string; value: number | null; best: number | null }[];
}

export interface ReportModel {
  schema: number;
  sweep: { name: string; created_at: number; updated_at: number };
  generated_at: number;
  objective: ObjectiveChoice;
  thresholds: Thresholds;
  status: { counts: Record<string, number>; total: number; all_failed: boolean; running: number; message: string | null };
  best: string | null;
  batch_dependent_metrics: string[];
  configurations: ConfigReport[];
  runs: RunReport[];
  comparison: Comparison | null;
  heatmaps: Heatmap[];
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
  search?: SearchTrials | null;
}

export function assembleModel(input: AssembleInput): ReportModel {
  const { objective } = input;
  const configs = input.configurations;
  const ranked = objective.ranked
    ? configs
        // A configuration whose runs all failed is listed, not ranked: its numbers stop mid-way.
        .filter((c) => c.objective.mean !== null && FAILED.reduce((n, f) => n + (c.status_counts[f] ?? 0), 0) < c.runs.length)
        .sort((a, b) => (objective.direction === 'min' ? a.objective.mean! - b.objective.mean! : b.objective.mean! - a.objective.mean!))
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
  else if (allFailed) message = `All ${total} runs failed; there is nothing to rank. Each run's failure reason is listed below.`;
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
  return { child_seconds: spent, full_estimate_seconds: full, pruned_runs: pruned, saved_fraction: full > 0 && pruned > 0 ? 1 - spent / full : null };
}

const COMPARED: { key: keyof ConfigDiagnostics; label: string; better: 'lower' | 'higher' | null }[] = [
  { key: 'best_val_loss', label: 'best val loss', better: 'lower' },
  { key: 'best_val_step', label: 'best val step', better: null },
  { key: 'overfit_onset_step', label: 'overfitting onset step', better: null },
  { key: 'gap_at_best', label: 'gap at best step', better: 'lower' },
  { key: 'final_gap', label: 'final gap', better: 'lower' },
  { key: 'scale_min', label: 'logit scale min', better: null },
  { key: 'scale_final', label: 'logit scale final', better: null },
  { key: 'scale_rebound_runs', label: 'runs with scale rebound', better: 'lower' },
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
    { key: 'objective', label: `objective (${objective.key})`, better: objective.direction === 'min' ? 'lower' : 'higher', values: chosen.map((c) => c.objective.mean) },
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
          const values = cs.filter((c) => c.params['lr'] === lr && c.params[BATCH_PARAM] === b).map(pick).filter((v): v is number => v !== null);
          return values.length === 0 ? null : mean(values);
        }),
      );
    return { warmup, lrs, batch_sizes: batches, objective: cell((c) => c.objective.mean), final_gap: cell((c) => c.diagnostics.final_gap) };
  });
}

export type { RunDiagnostics };
