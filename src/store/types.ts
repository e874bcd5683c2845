// What every store guarantees (the SQLite store is the one implementation today):
// - Run states follow RUN_TRANSITIONS; a transition is compare-and-set: it names the state it
//   expects and returns false, changing nothing, when another process got there first. So two
//   orchestrators on one database never run the same run twice.
// - Each transition stamps its time and is appended to the run's history.
// - Metric ingestion is idempotent: one row per (run, key, step); a later value replaces an
//   earlier one. The ingestion offset is written in the same transaction as the rows.
// - Reads return plain copies; nothing a caller does to them reaches the database.

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'interrupted' | 'infeasible' | 'pruned';

export const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running'],
  running: ['completed', 'failed', 'interrupted', 'infeasible', 'pruned', 'queued'],
  completed: ['queued'],
  failed: ['queued'],
  interrupted: ['queued'],
  infeasible: ['queued'],
  pruned: ['queued'],
};

/** Why a run ended other than by completing. */
export type FailureKind = 'exit' | 'signal' | 'timeout' | 'oom' | 'spawn' | 'interrupted' | 'orphaned';

export interface SweepRecord {
  pk: number;
  name: string;
  specPath: string | null;
  spec: unknown;
  specHash: string;
  runsDir: string;
  createdAt: number;
  updatedAt: number;
}

export interface SweepSummary extends SweepRecord {
  counts: Partial<Record<RunStatus, number>>;
  total: number;
}

export interface RunRecord {
  pk: number;
  sweepPk: number;
  id: string;
  name: string;
  params: Record<string, unknown>;
  ordinal: number;
  status: RunStatus;
  attempt: number;
  slot: string | null;
  gpu: number | null;
  owner: string | null;
  pid: number | null;
  /** The SLURM job id of the current (or last) attempt; null for local runs. */
  jobId: string | null;
  /** The early-termination rung a pruned run was stopped at. */
  pruneRung: number | null;
  /** Null for runs registered before origins were recorded. */
  origin: RunOrigin | null;
  runDir: string;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  failureKind: FailureKind | null;
  reason: string | null;
  stderrTail: string | null;
  excludedGpus: number[];
  totalSteps: number | null;
  lastStep: number | null;
  metricsOffset: number;
  metricLines: number;
  badLines: number;
  summary: unknown;
}

export interface RunRegistration {
  id: string;
  name: string;
  params: Record<string, unknown>;
  ordinal: number;
  runDir: string;
  origin?: RunOrigin;
}

/** grid (a grid point or random draw), config (named), random or tpe (proposed by a TPE search). */
export type RunOrigin = 'grid' | 'config' | 'random' | 'tpe';

export interface RunEnd {
  status: Exclude<RunStatus, 'queued' | 'running'>;
  exitCode?: number | null;
  signal?: string | null;
  failureKind?: FailureKind | null;
  pruneRung?: number | null;
  reason?: string | null;
  stderrTail?: string | null;
}

export type NonFinite = 'nan' | 'inf' | '-inf';

export interface MetricRow {
  key: string;
  step: number;
  /** NaN and infinities are kept: `value` holds them as JS numbers. */
  value: number;
  epoch?: number | null;
  time: number;
}

export interface EventRow {
  /** Byte offset of the line in the metrics file: the event's identity, so re-reads do not duplicate. */
  offset: number;
  kind: string;
  step: number | null;
  payload: Record<string, unknown>;
  time: number;
}

/** One run's share of an ingestion batch. */
export interface IngestBatch {
  runPk: number;
  attempt: number;
  metrics: MetricRow[];
  events: EventRow[];
  /** The file offset after the last complete line consumed. */
  offset: number;
  lines: number;
  badLines: number;
  totalSteps?: number | null;
  lastStep?: number | null;
  summary?: unknown;
}

export interface MetricPoint {
  step: number;
  value: number;
  epoch: number | null;
  time: number | null;
}

export interface OrchestratorRecord {
  id: string;
  pid: number;
  host: string;
  startedAt: number;
  heartbeatAt: number;
  endedAt: number | null;
}
