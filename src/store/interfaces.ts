// The store as three roles, each the contract its consumers depend on (after Optuna's
// storages/_base.py): the orchestrator moves runs through their states, the recorder ingests
// metrics, readers (status, ls, export, cancel, report, serve) only read. SqliteStore implements
// all three; SqliteReader only the last. test/store/contract.ts is the suite every implementation
// passes.
//
// What every implementation guarantees:
// - Run states follow RUN_TRANSITIONS (types.ts). Every transition is compare-and-set: it names the
//   state (and, for a running run, the owner) it expects, and returns false, changing nothing, when
//   the run is not there any more. Two orchestrators on one database never run one run twice.
// - Each transition stamps its time and is appended to the run's history (`transitions`), in the
//   same transaction as the change.
// - A finished run changes only by going back to `queued` (a retry, a resume, a rerun).
// - Metric ingestion is idempotent: one row per (run, key, step), a later value replaces an earlier
//   one; NaN and +-Infinity are kept as such. A run's ingestion offset never moves backwards and is
//   written in the same transaction as the rows it covers.
// - Reads return plain copies: nothing a caller does to them reaches the database. A reader sees
//   every transaction committed before the read, never half of one.
// - Readers never write: opening a reader creates, migrates and marks nothing.
//
// Errors (src/errors.ts): a lookup by name or key that finds nothing raises NotFoundError; an
// impossible transition (not allowed by RUN_TRANSITIONS) raises ClipsweepError 'STORE' before
// touching the database; opening raises a DatabaseError subclass naming the file (see open.ts).
// A lost race is not an error: it is the `false` of the compare-and-set methods.
import type {
  IngestBatch,
  MetricPoint,
  OrchestratorRecord,
  RunEnd,
  RunRecord,
  RunRegistration,
  RunStatus,
  RunTransition,
  SeriesColumns,
  StoredEvent,
  SweepRecord,
  SweepRegistration,
  SweepSummary,
} from './types.js';
import type { GpuSample, MeasuredRun, RunGpuUse } from './gpu-use.js';

/** What `sweep run`'s orchestrator needs: register the plan, claim, settle and recover runs. */
export interface OrchestratorStore {
  /** Creates the sweep, or updates its spec, spec path and runs folder; returns it. */
  registerSweep(input: SweepRegistration): SweepRecord;
  /** Adds runs not yet known as `queued`; refreshes name, order and (unless running) folder of the others. One transaction. */
  registerRuns(sweepPk: number, runs: Iterable<RunRegistration>): void;
  /**
   * The sweep's runs in (ordinal, key) order, read `pageSize` at a time: memory is one page,
   * and the caller may write between pages (no statement stays open across a yield).
   */
  eachRun(sweepPk: number, pageSize?: number): Generator<RunRecord>;
  /** @throws NotFoundError when no run has this key. */
  getRun(runPk: number): RunRecord;
  /** queued -> running for `owner` on `slot`; the attempt counter goes up and the previous attempt's outcome is cleared. False when the run is not queued. */
  claimRun(runPk: number, owner: string, slot: string, gpu: number | null): boolean;
  /** The child's pid of a running run held by `owner` (ignored otherwise). */
  setPid(runPk: number, owner: string, pid: number | null): void;
  /** The batch job of a running run held by `owner`; kept after the run ends (ignored otherwise). */
  setJobId(runPk: number, owner: string, jobId: string | null): void;
  /** A running run of a dead `deadOwner` passes to `newOwner` (running -> running, kept in the history). False when `deadOwner` does not hold it. */
  transferRun(runPk: number, deadOwner: string, newOwner: string, detail: string): boolean;
  /**
   * running (held by `owner`) -> an end state, with the attempt's outcome. False when the run is
   * not running or not `owner`'s.
   * @throws ClipsweepError 'STORE' when `end.status` is not an end state.
   */
  finishRun(runPk: number, owner: string, end: RunEnd): boolean;
  /**
   * Back to `queued` from one of `from` (a running run only for its `owner`). The previous
   * attempt's outcome stays readable until the next claim. False when the run is elsewhere.
   * @throws ClipsweepError 'STORE' when some state in `from` may not go to `queued`.
   */
  requeueRun(runPk: number, from: readonly RunStatus[], detail: string, owner?: string): boolean;
  /** running (held by dead `deadOwner`) -> interrupted, failure kind `orphaned`. False when `deadOwner` does not hold it. */
  markOrphaned(runPk: number, deadOwner: string, reason: string): boolean;
  /** Adds `gpu` to the GPUs the run may not use again (after running out of memory there); returns the whole list, sorted. */
  excludeGpu(runPk: number, gpu: number): number[];
  /** For a deliberate re-run from scratch: forgets the run's metrics, events, counters, offset and excluded GPUs. */
  resetRunData(runPk: number): void;
  registerOrchestrator(record: { id: string; pid: number; host: string }): void;
  /** Tells other orchestrators this one is alive (see orchestrator/liveness.ts). */
  heartbeat(id: string): void;
  endOrchestrator(id: string): void;
  getOrchestrator(id: string): OrchestratorRecord | undefined;
}

/** What the recorder (metrics/recorder.ts), the one writer of metric data, needs. */
export interface MetricSink {
  /** Writes every batch in one transaction: rows, events, offsets and counters together, or nothing. */
  ingest(batches: readonly IngestBatch[]): void;
}

/**
 * What reading commands need. New read models (e.g. a web UI's queries) go in their own file
 * under src/store/ beside sqlite-reader.ts, taking the reader's connection; add methods here only
 * when most readers need them.
 */
export interface StoreReader extends GpuUseReader {
  /** The database file, for messages. */
  readonly file: string;
  /** @throws NotFoundError naming the sweep and the file. */
  getSweep(name: string): SweepRecord;
  findSweep(name: string): SweepRecord | undefined;
  /** The sweep most recently registered or updated, if any. */
  latestSweep(): SweepRecord | undefined;
  /** Every sweep, oldest first, with its runs counted by state. */
  listSweeps(): SweepSummary[];
  /** The sweep's runs in (ordinal, key) order. */
  listRuns(sweepPk: number): RunRecord[];
  /** @throws NotFoundError when no run has this key. */
  getRun(runPk: number): RunRecord;
  /** The run's history, oldest first. */
  transitions(runPk: number): RunTransition[];
  /** The run's protocol events, in file order. */
  events(runPk: number): StoredEvent[];
  /** The metric keys the run recorded, sorted. */
  metricKeys(runPk: number): string[];
  /** One metric of one run, by step, NaN and infinities kept. Empty when never recorded. */
  series(runPk: number, key: string): MetricPoint[];
  /**
   * Whole series of several keys of one run as number columns, sorted by step: the bulk read of
   * reports (no object per point). Keys the run never recorded are absent from the map.
   */
  seriesColumns(runPk: number, keys: readonly string[]): Map<string, SeriesColumns>;
  /** The latest value (highest step) of every metric of every run of a sweep, by run key. */
  latestMetrics(sweepPk: number): Map<number, Map<string, { step: number; value: number }>>;
  /** Minimum and maximum of every metric of every run of a sweep, NaN ignored, by run key. */
  metricExtremes(sweepPk: number): Map<number, Map<string, { min: number; max: number }>>;
  /**
   * One metric of every run of a sweep that recorded it, by run key: its minimum and maximum (NaN
   * ignored) and its value at the highest step (a search's view of each run's result).
   */
  metricOutcomes(
    sweepPk: number,
    key: string,
  ): Map<number, { min: number; max: number; lastStep: number; last: number }>;
  /** The key of the sweep's run with this id, if registered. */
  findRunPk(sweepPk: number, runId: string): number | undefined;
  /** Every metric row of a sweep, streamed in (run order, key, step) order. */
  iterateMetrics(sweepPk: number): Generator<{
    runId: string;
    runName: string;
    key: string;
    step: number;
    value: number;
    epoch: number | null;
    time: number | null;
  }>;
  countMetrics(runPk: number): number;
  getOrchestrator(id: string): OrchestratorRecord | undefined;
  close(): void;
}

/** GPU measurement's reads (src/store/gpu-use.ts): the report, `sweep status`, the predictor, the dry-run estimate. */
export interface GpuUseReader {
  /** Per-GPU samples of a sweep, by GPU then time. */
  gpuSamples(sweepPk: number): GpuSample[];
  /** Runs of a sweep with a measured peak or a proved need, by run key. */
  runGpuUse(sweepPk: number): Map<number, RunGpuUse>;
  /** Runs with a measurement or a completed attempt, with their sweep's spec; of one sweep, or of all (null). */
  measuredRuns(sweepPk?: number | null): MeasuredRun[];
}

/** What the orchestrator's GPU measurement (orchestrator/gpu-use.ts) writes. */
export interface GpuUseWriter {
  /** A run's peak GPU memory (the largest of its attempts is kept) and mean utilisation. */
  recordGpuUse(runPk: number, peakMiB: number, utilMean: number | null): void;
  /** The least memory an out-of-memory attempt proved the run needs (the largest is kept). */
  recordGpuNeed(runPk: number, atLeastMiB: number): void;
  addGpuSamples(sweepPk: number, samples: readonly GpuSample[]): void;
}

/** The writer `sweep run` opens: all roles on one connection. */
export interface SweepStore extends OrchestratorStore, MetricSink, StoreReader, GpuUseWriter {}
