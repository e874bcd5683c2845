// One run's diagnostics from its full series: what the live server computes whenever a run moved.
// Shared by the in-process path (tests, small sweeps) and the diagnosis worker (diagnoser.ts).
import { diagnose, type RunDiagnostics } from '../report/diagnostics.js';
import { DRAW_POINTS } from '../report/model.js';
import type { Objective, Thresholds } from '../report/options.js';
import { lttb, type Series } from '../report/series.js';
import type { LiveReader } from '../store/live-reads.js';

/** What a diagnosis needs besides the series: plain data, so that it can cross to a worker. */
export interface DiagnosisJob {
  runPk: number;
  /** The keys whose full series are read. */
  keys: string[];
  status: string;
  startedAt: number | null;
  endedAt: number | null;
  failureKind: string | null;
  reason: string | null;
  summary: unknown;
  thresholds: Thresholds;
  objective: Objective;
  now: number;
}

export interface DiagnosisResult {
  diagnostics: RunDiagnostics;
  /** The gap series, downsampled for drawing. */
  gap: { x: number[]; y: number[] };
}

/** Thrown when `giveWay` says so: the diagnosis is to be done again later. */
export class DiagnosisDeferred extends Error {
  constructor() {
    super('diagnosis deferred');
  }
}

/** `giveWay`: asked before each series read; true stops the diagnosis (DiagnosisDeferred). */
export function diagnoseFromDb(reader: LiveReader, job: DiagnosisJob, giveWay?: () => boolean): DiagnosisResult {
  const series = new Map<string, Series>();
  for (const key of job.keys) {
    if (giveWay?.()) throw new DiagnosisDeferred();
    series.set(key, reader.seriesValues(job.runPk, key));
  }
  const facts = {
    status: job.status,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    failureKind: job.failureKind,
    reason: job.reason,
    earlyStop: isEarlyStop(job.summary, reader.events(job.runPk)),
  };
  const { diagnostics, gap } = diagnose(facts, series, job.thresholds, job.objective, job.now);
  return { diagnostics, gap: lttb(gap.steps, gap.values, DRAW_POINTS) };
}

function isEarlyStop(summary: unknown, events: readonly { kind: string; payload: Record<string, unknown> }[]): boolean {
  const reasonOf = (x: unknown) =>
    x !== null && typeof x === 'object' ? (x as Record<string, unknown>)['reason'] : undefined;
  if (reasonOf(summary) === 'early_stop') return true;
  return events.some(
    (e) =>
      e.kind === 'finished' &&
      (e.payload['reason'] === 'early_stop' || reasonOf(e.payload['summary']) === 'early_stop'),
  );
}
