// The records the store reads and writes. What every store guarantees, and the role interfaces
// its consumers depend on, are in interfaces.ts.

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

export interface SweepRegistration {
  name: string;
  specPath: string | null;
  spec: unknown;
  specHash: string;
  runsDir: string;
}

export interface RunTransition {
  at: number;
  from: RunStatus | null;
  to: RunStatus;
  attempt: number;
  detail: string | null;
}

export interface StoredEvent {
  offset: number;
  kind: string;
  step: number | null;
  payload: Record<string, unknown>;
  time: number | null;
}

/** A whole series as two parallel number columns, sorted by step (NaN and infinities kept). */
export interface SeriesColumns {
  steps: number[];
  values: number[];
}
