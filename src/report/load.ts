// store -> model: reads the sweep one configuration at a time, so only that configuration's full
// series are in memory while its diagnostics are computed, then keeps only the reduced forms.
import type { StoreReader } from '../store/index.js';
import type { RunRecord, SweepRecord } from '../store/types.js';
import { assembleModel, type ReportModel, type SearchTrials } from './assemble.js';
import { groupConfigurations, namedConfigurations } from './configs.js';
import { KEYS, RETRIEVAL_KEY } from './diagnostics.js';
import { DRAWN_KEYS, summarizeConfig, type ConfigReport, type RunReport } from './model.js';
import { BATCH_PARAM, batchDependentKeys, chooseObjective } from './objective.js';
import type { Thresholds, XAxis } from './options.js';

export function loadModel(
  store: StoreReader,
  sweep: SweepRecord,
  options: { objective?: string; thresholds: Thresholds; now: number; xAxis?: XAxis },
): ReportModel {
  const runs = store.listRuns(sweep.pk);
  const events = new Map(runs.map((r) => [r.pk, store.events(r.pk)]));
  const runKeys = new Map(runs.map((r) => [r.pk, store.metricKeys(r.pk)]));
  const recorded = new Set([...runKeys.values()].flat());
  const batchDependent = new Set([...events.values()].flatMap(batchDependentKeys));
  const batchSizes = new Set(
    runs
      .map((r) => r.params[BATCH_PARAM])
      .filter((b) => b !== undefined)
      .map((b) => JSON.stringify(b)),
  );
  const objective = chooseObjective(options.objective, recorded, batchDependent, batchSizes);
  const ctx = { thresholds: options.thresholds, objective, now: options.now };
  const named = new Set(namedConfigurations(sweep.spec));

  const configurations: ConfigReport[] = [];
  const runReports: RunReport[] = [];
  groupConfigurations(runs).forEach((group, index) => {
    const inputs = group.runs.map((run) => {
      const wanted = (runKeys.get(run.pk) ?? []).filter(
        (k) => DRAWN_KEYS.includes(k) || k === KEYS.retain || k === objective.key || RETRIEVAL_KEY.test(k),
      );
      return {
        id: run.id,
        name: run.name,
        params: run.params,
        status: run.status,
        attempt: run.attempt,
        failureKind: run.failureKind,
        origin: run.origin,
        reason: run.reason,
        stderrTail: run.stderrTail,
        startedAt: run.startedAt,
        endedAt: run.endedAt,
        totalSteps: run.totalSteps,
        summary: run.summary,
        earlyStop: isEarlyStop(run, events.get(run.pk) ?? []),
        stepsPerEpoch: stepsPerEpoch(events.get(run.pk) ?? []),
        series: store.seriesColumns(run.pk, wanted),
      };
    });
    const { config, runs: reports } = summarizeConfig(
      index,
      group.name,
      named.has(group.name),
      group.params,
      inputs,
      ctx,
    );
    configurations.push(config);
    runReports.push(...reports);
  });

  return assembleModel({
    sweep: { name: sweep.name, created_at: sweep.createdAt, updated_at: sweep.updatedAt },
    now: options.now,
    objective,
    thresholds: options.thresholds,
    batchDependent: [...batchDependent].sort(),
    configurations,
    runs: runReports,
    ...(options.xAxis !== undefined ? { xAxis: options.xAxis } : {}),
    search: searchTrials(store, sweep, runs),
  });
}

/**
 * A TPE search's trials in the order they were proposed: each finished run's value of the search
 * objective (its best; a pruned run's last) and the best so far.
 */
function searchTrials(store: StoreReader, sweep: SweepRecord, runs: readonly RunRecord[]): SearchTrials | null {
  if (!runs.some((r) => r.origin === 'random' || r.origin === 'tpe')) return null;
  const search = (sweep.spec as { search?: { metric?: unknown; mode?: unknown } } | null)?.search;
  if (typeof search?.metric !== 'string') return null;
  const metric = search.metric;
  const mode = search.mode === 'max' ? 'max' : 'min';
  const outcomes = store.metricOutcomes(sweep.pk, metric);
  let best: number | null = null;
  const trials = runs.map((run, index) => {
    const o = outcomes.get(run.pk);
    const finished = run.status === 'completed' || run.status === 'pruned';
    const raw = !finished || o === undefined ? null : run.status === 'pruned' ? o.last : mode === 'min' ? o.min : o.max;
    const value = raw !== null && Number.isFinite(raw) ? raw : null;
    if (value !== null && (best === null || (mode === 'min' ? value < best : value > best))) best = value;
    return { trial: index + 1, id: run.id, name: run.name, origin: run.origin, status: run.status, value, best };
  });
  return { metric, mode, trials };
}

function isEarlyStop(run: RunRecord, events: readonly { kind: string; payload: Record<string, unknown> }[]): boolean {
  const reasonOf = (x: unknown) =>
    x !== null && typeof x === 'object' ? (x as Record<string, unknown>)['reason'] : undefined;
  if (reasonOf(run.summary) === 'early_stop') return true;
  return events.some(
    (e) =>
      e.kind === 'finished' &&
      (e.payload['reason'] === 'early_stop' || reasonOf(e.payload['summary']) === 'early_stop'),
  );
}

/** Steps per epoch as the trainer announced it (`started` event, info.steps_per_epoch), if it did. */
function stepsPerEpoch(events: readonly { kind: string; payload: Record<string, unknown> }[]): number | null {
  for (const e of events) {
    if (e.kind !== 'started') continue;
    const info = e.payload['info'];
    const spe =
      info !== null && typeof info === 'object' ? (info as Record<string, unknown>)['steps_per_epoch'] : undefined;
    if (typeof spe === 'number' && Number.isFinite(spe) && spe > 0) return spe;
  }
  return null;
}
