// What the server sends a page about a sweep, and how a run's row, drawn series and diagnostics
// become it: the shapes of snapshots and deltas, the runs table's view of a run, and its alerts.
import type { RunDiagnostics } from '../report/diagnostics.js';
import { DRAW_POINTS } from '../report/model.js';
import type { ObjectiveChoice } from '../report/objective.js';
import type { Thresholds } from '../report/options.js';
import { lttb, round4 } from '../report/series.js';
import type { LivePoints, LiveRunRow } from '../store/live-reads.js';

/** A drawn series: finite points only (NaN and infinities are diagnostics, not lines). */
export interface Drawn {
  x: number[];
  y: number[];
  /** Epoch at each point where the trainer logged one. */
  e: (number | null)[];
}

export interface Alert {
  run: string;
  kind: 'overfit' | 'scale-dip' | 'scale-rebound' | 'diverged' | 'early-stop' | 'pruned' | 'failed';
  step: number | null;
  message: string;
}

export interface RunView {
  id: string;
  name: string;
  params: Record<string, unknown>;
  ordinal: number;
  status: string;
  attempt: number;
  slot: string | null;
  gpu: number | null;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  failure_kind: string | null;
  reason: string | null;
  total_steps: number | null;
  last_step: number | null;
  prune_rung: number | null;
  color: string;
  dash: number[];
  configuration: string;
  /** Last logged value per key (NaN shown as such). */
  latest: Record<string, number | string>;
}

export interface DiagView {
  run: string;
  diagnostics: RunDiagnostics;
  gap: { x: number[]; y: number[] };
}

export interface PointsDelta {
  run: string;
  key: string;
  x: number[];
  y: (number | string)[];
  e: (number | null)[];
}

export interface SweepDelta {
  sweep: string;
  now: number;
  runs: RunView[];
  points: PointsDelta[];
  diags: DiagView[];
  alerts: Alert[];
  /** Runs started over (a new attempt): their series were cleared. */
  resets: string[];
}

export type CompactSeries = { x: number[]; y: number[]; e?: (number | null)[] };

export interface Snapshot {
  sweep: { name: string; created_at: number; updated_at: number };
  now: number;
  objective: ObjectiveChoice;
  clamp: number;
  keys: string[];
  runs: RunView[];
  alerts: Alert[];
  series: Record<string, Record<string, CompactSeries>>;
  diags: DiagView[];
}

/** A drawn series for JSON: at most `points` (LTTB), 4 significant digits, epochs only if logged. */
export function compact(d: Drawn, points: number): CompactSeries {
  let x = d.x;
  let y = d.y;
  let e = d.e;
  if (x.length > points) {
    const epochAt = new Map(x.map((step, i) => [step, e[i] ?? null]));
    const reduced = lttb(x, y, points);
    x = reduced.x;
    y = reduced.y;
    e = x.map((step) => epochAt.get(step) ?? null);
  }
  const out: CompactSeries = { x, y: y.map(round4) };
  if (e.some((v) => v !== null)) out.e = e;
  return out;
}

/** Non-finite values travel as strings: JSON has no NaN. */
export const jsonValue = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

export function appendDrawn(drawn: Map<string, Drawn>, key: string, fresh: LivePoints): void {
  let d = drawn.get(key);
  if (!d) drawn.set(key, (d = { x: [], y: [], e: [] }));
  for (let i = 0; i < fresh.steps.length; i++) {
    if (!Number.isFinite(fresh.values[i])) continue;
    d.x.push(fresh.steps[i]!);
    d.y.push(fresh.values[i]!);
    d.e.push(fresh.epochs[i]!);
  }
  // Keep between DRAW_POINTS and 2 x DRAW_POINTS points: LTTB again when the copy doubles, so
  // memory per series stays bounded however long the run.
  if (d.x.length > 2 * DRAW_POINTS) {
    const epochAt = new Map(d.x.map((x, i) => [x, d!.e[i]!]));
    const reduced = lttb(d.x, d.y, DRAW_POINTS);
    drawn.set(key, { x: reduced.x, y: reduced.y, e: reduced.x.map((x) => epochAt.get(x) ?? null) });
  }
}

export function viewOf(
  row: LiveRunRow,
  style: { color: string; dash: number[]; name: string },
  latest: Record<string, number | string>,
): RunView {
  return {
    id: row.id,
    name: row.name,
    params: row.params,
    ordinal: row.ordinal,
    status: row.status,
    attempt: row.attempt,
    slot: row.slot,
    gpu: row.gpu,
    queued_at: row.queuedAt,
    started_at: row.startedAt,
    ended_at: row.endedAt,
    failure_kind: row.failureKind,
    reason: row.reason,
    total_steps: row.totalSteps,
    last_step: row.lastStep,
    prune_rung: row.pruneRung,
    color: style.color,
    dash: style.dash,
    configuration: style.name,
    latest: { ...latest },
  };
}

export function alertsOf(row: LiveRunRow, d: RunDiagnostics, t: Thresholds): Alert[] {
  const out: Alert[] = [];
  const add = (kind: Alert['kind'], step: number | null, message: string) =>
    out.push({ run: row.id, kind, step, message });
  if (d.overfit_onset_step !== null) {
    add(
      'overfit',
      d.overfit_onset_step,
      `overfitting from step ${d.overfit_onset_step}: validation loss ${fmt(d.best_val_loss)} at its best (step ${d.best_val_step}), rising since while training loss falls`,
    );
  }
  if (
    d.scale_max !== null &&
    d.scale_final !== null &&
    d.scale_final < d.scale_max * (1 - t.scaleDip) &&
    !d.scale_rebound
  ) {
    add(
      'scale-dip',
      d.scale_min_step,
      `logit scale falling away: ${fmt(d.scale_final)} now, down from ${fmt(d.scale_max)} (clamp ${t.scaleClamp})`,
    );
  }
  if (d.scale_rebound)
    add(
      'scale-rebound',
      d.scale_rebound_step,
      `logit scale back at the clamp (${t.scaleClamp}) at step ${d.scale_rebound_step} after a dip to ${fmt(d.scale_min)}`,
    );
  if (d.diverged) {
    const what =
      d.divergence_kind === 'explode'
        ? 'loss exploding'
        : `${d.divergence_metric} is ${d.divergence_kind === 'nan' ? 'NaN' : 'infinite'}`;
    add('diverged', d.divergence_step, `diverged at step ${d.divergence_step}: ${what}`);
  }
  if (d.early_stop) add('early-stop', d.last_step, `stopped early at step ${d.last_step}`);
  if (row.status === 'pruned')
    add(
      'pruned',
      row.lastStep,
      `pruned${row.pruneRung !== null ? ` at rung ${row.pruneRung}` : ''} (step ${row.lastStep ?? '?'})`,
    );
  if (row.status === 'failed')
    add(
      'failed',
      row.lastStep,
      `failed: ${[row.failureKind, row.reason].filter(Boolean).join(': ') || 'unknown reason'}`,
    );
  return out;
}

function fmt(v: number | null): string {
  return v === null ? '?' : Number(v.toPrecision(4)).toString();
}
