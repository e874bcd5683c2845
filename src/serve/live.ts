// What the server knows about a sweep between polls: per run its row, a drawn (downsampled) copy
// of each chart series, the last step sent per key, and its diagnostics and alerts. A poll reads
// only what changed (runs whose metric_lines moved, and their rows after the last step sent) and
// returns one delta that every open page of the sweep receives: whole series are never resent.
// The shapes sent to pages are in views.ts.
import { groupConfigurations, styleOf } from '../report/configs.js';
import { RETRIEVAL_KEY } from '../report/diagnostics.js';
import { DRAW_POINTS, DRAWN_KEYS } from '../report/model.js';
import { chooseObjective, type ObjectiveChoice } from '../report/objective.js';
import type { Thresholds } from '../report/options.js';
import type { LiveReader, LiveRunRow, LiveSweepRow } from '../store/live-reads.js';
import { diagnoseFromDb, type DiagnosisJob, type DiagnosisResult } from './diagnose-run.js';
import { DEFERRED, type Diagnoser } from './diagnoser.js';
import type { FirstLoadJob, FirstSeries } from './first-load.js';
import {
  alertsOf,
  appendDrawn,
  compact,
  jsonValue,
  viewOf,
  type Alert,
  type DiagView,
  type Drawn,
  type RunView,
  type Snapshot,
  type SweepDelta,
} from './views.js';

export type { SweepDelta } from './views.js';

interface RunState {
  row: LiveRunRow;
  view: RunView;
  drawn: Map<string, Drawn>;
  lastStep: Map<string, number>;
  diag: DiagView | null;
  alerts: Map<string, Alert>;
  diagDirty: boolean;
  /** Sent to the diagnosis worker, answer pending. */
  diagInFlight: boolean;
  /** Last value sent per key, for the runs table. */
  latestValues: Record<string, number | string>;
  /** This run's parts of the snapshot JSON, null until built again after a change. */
  cache: { perSeries: number; series: string | null; diag: string | null } | null;
}

/** Points in a page's first snapshot, all series together, and the least per series. */
const SNAPSHOT_POINTS = 120_000;
const MIN_SNAPSHOT_POINTS = 50;
/** Diagnoses queued in the worker at once: runs that move again meanwhile wait, not pile up. */
const MAX_DIAG_IN_FLIGHT = 2;
/** A page opening pauses new diagnoses this long: its snapshot and first draw come first. */
const PAGE_FIRST_MS = 2000;

/**
 * What a sweep's first load reads: its runs as they are now, and per run the keys drawn, in step
 * buckets. Made on the main thread (cheap), read in the worker, then given to the SweepLive.
 */
export interface FirstLoadPlan {
  rows: LiveRunRow[];
  job: FirstLoadJob;
}

/** Keys the sweep page draws: the report's chart keys, the objective and recall@k. */
function drawnKey(key: string, objectiveKey: string): boolean {
  return DRAWN_KEYS.includes(key) || key === objectiveKey || RETRIEVAL_KEY.test(key);
}

function objectiveFor(rows: readonly LiveRunRow[], keys: ReadonlySet<string>): ObjectiveChoice {
  const sizes = new Set(
    rows
      .map((r) => r.params['batch_size'])
      .filter((b) => b !== undefined)
      .map((b) => JSON.stringify(b)),
  );
  return chooseObjective(undefined, keys, new Set(), sizes);
}

/** A run's diagnostics in the snapshot: the gap drawn like the other series, as many points. */
function diagJson(diag: DiagView, perSeries: number): string {
  return JSON.stringify({ ...diag, gap: compact({ ...diag.gap, e: [] }, perSeries) });
}

export class SweepLive {
  readonly sweep: LiveSweepRow;
  private readonly runs = new Map<number, RunState>();
  private readonly keys = new Set<string>();
  private objective: ObjectiveChoice;
  /** Step buckets per series on first load. */
  private readonly firstBuckets: number;
  /** Diagnostics re-read full series: this caps the time one poll spends on them. */
  private readonly diagBudgetMs: number;
  private readonly diagnoser: Diagnoser | null;
  private readonly onDelta: (delta: SweepDelta) => void;
  /** Worker answers not yet sent, gathered into one delta. */
  private asyncDelta: SweepDelta | null = null;
  private lastDiagError = '';
  /** During construction only: the first load read in the worker, by run and key. */
  private preloaded: Map<string, FirstSeries> | null = null;

  /**
   * `diagnoser`: diagnoses run in its worker and their results come later through `onDelta`;
   * without one they run in the poll, `diagBudgetMs` per poll.
   */
  constructor(
    private readonly reader: LiveReader,
    sweep: LiveSweepRow,
    private readonly thresholds: Thresholds,
    options: {
      diagBudgetMs?: number;
      diagnoser?: Diagnoser;
      onDelta?: (delta: SweepDelta) => void;
      /** The first load, read in the worker from `plan` (by default read here). */
      preloaded?: { plan: FirstLoadPlan; series: FirstSeries[] };
    } = {},
  ) {
    this.sweep = sweep;
    this.diagBudgetMs = options.diagBudgetMs ?? 150;
    this.diagnoser = options.diagnoser ?? null;
    this.onDelta = options.onDelta ?? (() => undefined);
    // The rows the first load was planned on: a run that moved since is read on at the next poll,
    // from the last step the first load saw.
    const plan = options.preloaded?.plan ?? SweepLive.plan(reader, sweep);
    for (const row of plan.rows) for (const key of reader.runKeys(row.pk)) this.keys.add(key);
    this.objective = objectiveFor(plan.rows, this.keys);
    this.firstBuckets = plan.job.buckets;
    if (options.preloaded) {
      this.preloaded = new Map();
      for (const s of options.preloaded.series) this.preloaded.set(`${s.runPk}\u0000${s.key}`, s);
    }
    this.applyRows(plan.rows, null);
    this.preloaded = null;
  }

  /** The first load's plan: the series a SweepLive of `sweep` reads now. */
  static plan(reader: LiveReader, sweep: LiveSweepRow): FirstLoadPlan {
    const rows = reader.runs(sweep.pk);
    const keys = new Set<string>();
    for (const row of rows) for (const key of reader.runKeys(row.pk)) keys.add(key);
    const objective = objectiveFor(rows, keys);
    const series = rows.flatMap((row) =>
      reader
        .runKeys(row.pk)
        .filter((k) => drawnKey(k, objective.key))
        .map((key) => ({ runPk: row.pk, key })),
    );
    // Read no finer than the first snapshot sends: 2 points per bucket, SNAPSHOT_POINTS in all.
    const buckets = Math.max(
      MIN_SNAPSHOT_POINTS / 2,
      Math.min(DRAW_POINTS / 2, Math.floor(SNAPSHOT_POINTS / 2 / Math.max(1, series.length))),
    );
    return { rows, job: { buckets, series } };
  }

  pendingDiagnoses(): boolean {
    for (const s of this.runs.values()) if (s.diagDirty || s.diagInFlight) return true;
    return false;
  }

  get objectiveKey(): string {
    return this.objective.key;
  }

  /** The page's first load: every run, its drawn series, diagnostics and alerts. */
  snapshot(now: number, withSeries = true): Snapshot {
    return JSON.parse(this.snapshotJson(now, withSeries)) as Snapshot;
  }

  /**
   * The snapshot as JSON, assembled from per-run pieces kept until the run changes: a page
   * opening on 200 runs x 6 series costs string concatenation, not 1,200 LTTB passes and a
   * 1.5 MB JSON.stringify (measured 0.8-1.3 s under this machine's load).
   */
  snapshotJson(now: number, withSeries = true): string {
    // The first load carries about SNAPSHOT_POINTS points in all (200 runs x 6 keys: 100 per
    // series, a 1-2 MB page of JSON); appended points then come at full resolution.
    let count = 0;
    for (const state of this.runs.values()) count += state.drawn.size;
    const perSeries = Math.max(
      MIN_SNAPSHOT_POINTS,
      Math.min(DRAW_POINTS, Math.floor(SNAPSHOT_POINTS / Math.max(1, count))),
    );
    const series: string[] = [];
    const diags: string[] = [];
    for (const state of this.runs.values()) {
      if (state.cache?.perSeries !== perSeries) state.cache = { perSeries, series: null, diag: null };
      const cache = state.cache;
      if (withSeries) {
        if (cache.series === null) {
          const own: Record<string, ReturnType<typeof compact>> = {};
          for (const [key, d] of state.drawn) own[key] = compact(d, perSeries);
          cache.series = JSON.stringify(own);
        }
        series.push(`${JSON.stringify(state.row.id)}:${cache.series}`);
      } else series.push(`${JSON.stringify(state.row.id)}:{}`);
      if (state.diag) {
        cache.diag ??= diagJson(state.diag, perSeries);
        diags.push(cache.diag);
      }
    }
    const head = {
      sweep: { name: this.sweep.name, created_at: this.sweep.createdAt, updated_at: this.sweep.updatedAt },
      now,
      objective: this.objective,
      clamp: this.thresholds.scaleClamp,
      keys: [...this.keys].sort(),
      runs: [...this.runs.values()].map((s) => s.view),
      alerts: [...this.runs.values()].flatMap((s) => [...s.alerts.values()]),
    };
    return `${JSON.stringify(head).slice(0, -1)},"series":{${series.join(',')}},"diags":[${diags.join(',')}]}`;
  }

  /** One poll: what changed since the last one (null when nothing did). */
  poll(now: number): SweepDelta | null {
    const delta: SweepDelta = { sweep: this.sweep.name, now, runs: [], points: [], diags: [], alerts: [], resets: [] };
    this.applyRows(this.reader.runs(this.sweep.pk), delta);
    this.diagnoseDirty(this.diagBudgetMs, delta);
    const empty =
      delta.runs.length + delta.points.length + delta.diags.length + delta.alerts.length + delta.resets.length === 0;
    return empty ? null : delta;
  }

  /** Diagnoses still due, without reading the runs again (the database did not change). */
  continueDiagnoses(now: number): SweepDelta | null {
    const delta: SweepDelta = { sweep: this.sweep.name, now, runs: [], points: [], diags: [], alerts: [], resets: [] };
    this.diagnoseDirty(this.diagBudgetMs, delta);
    return delta.diags.length + delta.alerts.length === 0 ? null : delta;
  }

  runState(id: string): { row: LiveRunRow; view: RunView; diag: DiagView | null; alerts: Alert[] } | undefined {
    for (const s of this.runs.values())
      if (s.row.id === id) return { row: s.row, view: s.view, diag: s.diag, alerts: [...s.alerts.values()] };
    return undefined;
  }

  private wanted(key: string): boolean {
    return drawnKey(key, this.objective.key);
  }

  private applyRows(rows: readonly LiveRunRow[], delta: SweepDelta | null): void {
    const styles = new Map<string, { color: string; dash: number[]; name: string }>();
    groupConfigurations(rows).forEach((group, index) => {
      for (const run of group.runs) styles.set(run.id, { ...styleOf(index), name: group.name });
    });
    let keysGrew = false;
    for (const row of rows) {
      const style = styles.get(row.id) ?? { ...styleOf(0), name: row.name };
      let state = this.runs.get(row.pk);
      const reset = state !== undefined && state.row.attempt !== row.attempt && row.metricLines < state.row.metricLines;
      const isNew = state === undefined || reset;
      if (state === undefined || reset) {
        const view = viewOf(row, style, {});
        state = {
          row,
          view,
          drawn: new Map(),
          lastStep: new Map(),
          diag: null,
          alerts: new Map(),
          diagDirty: true,
          diagInFlight: false,
          latestValues: {},
          cache: null,
        };
        this.runs.set(row.pk, state);
        if (reset && delta) delta.resets.push(row.id);
      }
      const previous = state.row;
      const moved = isNew || previous.metricLines !== row.metricLines;
      if (moved) {
        for (const key of this.reader.runKeys(row.pk)) {
          if (!this.keys.has(key)) {
            this.keys.add(key);
            keysGrew = true;
          }
          if (!this.wanted(key)) continue;
          const since = state.lastStep.get(key);
          if (since === undefined && delta === null) {
            // First load: SQLite downsamples; the series never pass through JavaScript whole.
            const { drawn, last } =
              this.preloaded?.get(`${row.pk}\u0000${key}`) ?? this.reader.bucketed(row.pk, key, this.firstBuckets);
            if (!last) continue;
            state.lastStep.set(key, last.step);
            state.drawn.set(key, { x: drawn.steps, y: drawn.values, e: drawn.epochs });
            state.latestValues[key] = jsonValue(last.value);
            continue;
          }
          const fresh = this.reader.pointsSince(row.pk, key, since ?? -Infinity);
          if (fresh.steps.length === 0) continue;
          state.lastStep.set(key, fresh.steps[fresh.steps.length - 1]!);
          appendDrawn(state.drawn, key, fresh);
          if (delta)
            delta.points.push({ run: row.id, key, x: fresh.steps, y: fresh.values.map(jsonValue), e: fresh.epochs });
          state.latestValues[key] = jsonValue(fresh.values[fresh.values.length - 1]!);
        }
        state.diagDirty = true;
        if (state.cache) state.cache.series = null;
      }
      const changed =
        moved ||
        previous.status !== row.status ||
        previous.attempt !== row.attempt ||
        previous.slot !== row.slot ||
        previous.totalSteps !== row.totalSteps;
      if (previous.status !== row.status) state.diagDirty = true;
      state.row = row;
      if (changed) {
        state.view = viewOf(row, style, state.latestValues);
        if (delta) delta.runs.push(state.view);
      }
    }
    if (keysGrew) {
      const next = objectiveFor(rows, this.keys);
      if (next.key !== this.objective.key) {
        this.objective = next;
        for (const s of this.runs.values()) s.diagDirty = true;
      }
    }
  }

  /** Diagnoses dirty runs, oldest first: in the worker, or here until `budgetMs` is spent. */
  private diagnoseDirty(budgetMs: number, delta: SweepDelta | null): void {
    if (this.diagnoser) return this.dispatchDiagnoses(this.diagnoser);
    const start = performance.now();
    for (const state of this.runs.values()) {
      if (!state.diagDirty) continue;
      if (performance.now() - start > budgetMs) break;
      state.diagDirty = false;
      this.applyDiagnosis(state, diagnoseFromDb(this.reader, this.jobOf(state)), delta);
    }
  }

  /**
   * A page is opening: background diagnoses wait (they share this process's CPU), those already
   * in the worker too (of every sweep: they share the machine's cores with the page).
   */
  pauseDiagnoses(): void {
    this.diagnoser?.hold(PAGE_FIRST_MS);
  }

  private dispatchDiagnoses(diagnoser: Diagnoser): void {
    // Held for a page (of this sweep or another): the worker would only defer them.
    if (diagnoser.holdingNow) return;
    for (const state of this.runs.values()) {
      if (!state.diagDirty || state.diagInFlight) continue;
      if (diagnoser.inFlight >= MAX_DIAG_IN_FLIGHT) break;
      state.diagDirty = false;
      state.diagInFlight = true;
      const job = this.jobOf(state);
      diagnoser.diagnose(job).then(
        (result) => {
          state.diagInFlight = false;
          // A run started over, or an objective that changed meanwhile, makes the answer stale.
          if (this.runs.get(state.row.pk) !== state || job.objective.key !== this.objective.key) return;
          this.applyDiagnosis(state, result, this.pendingAsyncDelta());
          this.dispatchDiagnoses(diagnoser); // keep the worker busy while runs wait
        },
        (error: Error) => {
          state.diagInFlight = false;
          if (error.message === 'diagnoser closed') return;
          state.diagDirty = true; // tried again at the next poll
          if (error.message === DEFERRED) return; // it gave way to a page opening
          if (error.message !== this.lastDiagError)
            process.stderr.write(`sweep serve: diagnosing ${state.row.id}: ${error.message}\n`);
          this.lastDiagError = error.message;
        },
      );
    }
  }

  /** The delta that gathers worker answers, sent once the answers at hand are in. */
  private pendingAsyncDelta(): SweepDelta {
    if (!this.asyncDelta) {
      const delta: SweepDelta = {
        sweep: this.sweep.name,
        now: 0,
        runs: [],
        points: [],
        diags: [],
        alerts: [],
        resets: [],
      };
      this.asyncDelta = delta;
      setImmediate(() => {
        this.asyncDelta = null;
        delta.now = Date.now() / 1000;
        this.onDelta(delta);
      });
    }
    return this.asyncDelta;
  }

  private jobOf(state: RunState): DiagnosisJob {
    return {
      runPk: state.row.pk,
      keys: this.reader.runKeys(state.row.pk).filter((k) => this.wanted(k)),
      status: state.row.status,
      startedAt: state.row.startedAt,
      endedAt: state.row.endedAt,
      failureKind: state.row.failureKind,
      reason: state.row.reason,
      summary: state.row.summary,
      thresholds: this.thresholds,
      objective: { key: this.objective.key, direction: this.objective.direction },
      now: Date.now() / 1000,
    };
  }

  /** Alerts are raised once per kind. */
  private applyDiagnosis(state: RunState, result: DiagnosisResult, delta: SweepDelta | null): void {
    const { diagnostics, gap } = result;
    state.diag = { run: state.row.id, diagnostics, gap };
    // Its snapshot piece is made now, in the background, not when a page opens (200 of them
    // after the first diagnoses of a big sweep: 0.1-0.7 s in front of that page's snapshot).
    if (state.cache) state.cache.diag = diagJson(state.diag, state.cache.perSeries);
    if (delta) delta.diags.push(state.diag);
    for (const alert of alertsOf(state.row, diagnostics, this.thresholds)) {
      if (state.alerts.has(alert.kind)) continue;
      state.alerts.set(alert.kind, alert);
      if (delta) delta.alerts.push(alert);
    }
  }
}
