// The SQLite store: the writer `sweep run` opens. Only the orchestrator process writes it (children
// never open the database), in batched transactions; WAL lets readers (status, report) read while
// a sweep runs. Reads come from SqliteReader, on the same connection.
import { ClipsweepError } from '../errors.js';
import type { SweepStore } from './interfaces.js';
import { migrate } from './migrations.js';
import { openWriteConnection, translate } from './open.js';
import { SqliteReader } from './sqlite-reader.js';
import { nonFiniteOf } from './nonfinite.js';
import * as gpu from './gpu-use.js';
import type { GpuSample } from './gpu-use.js';
import {
  RUN_TRANSITIONS,
  type IngestBatch,
  type RunEnd,
  type RunRegistration,
  type RunStatus,
  type SweepRecord,
  type SweepRegistration,
} from './types.js';

export type { SweepRegistration } from './types.js';

const now = (): number => Date.now() / 1000;

export class SqliteStore extends SqliteReader implements SweepStore {
  private readonly statements: ReturnType<typeof prepare>;
  /**
   * Transaction wrappers built once: db.transaction() builds four wrapper functions with their
   * properties on every call, which was a large share of each run's bookkeeping garbage.
   */
  // Every write takes the write lock at BEGIN: a deferred transaction that reads first and then
  // writes fails at once with "database is locked" (no busy wait) when another sweep process
  // committed in between, which WAL reports as a stale snapshot.
  private readonly transactImmediate: <T>(body: () => T) => T;

  private constructor(file: string, db: ReturnType<typeof openWriteConnection>) {
    super(file, db);
    this.statements = prepare(db);
    const wrapper = db.transaction((body: () => unknown) => body());
    this.transactImmediate = wrapper.immediate as <T>(body: () => T) => T;
  }

  /**
   * Opens (creating if missing, or initialising an empty file) and migrates the database.
   * Readers use openReader (sqlite-reader.ts) instead: it never writes.
   * @throws NotClipsweepDatabaseError for a file that is not clipsweep's (nothing is written to it);
   *   DatabaseUnusableError for one clipsweep cannot write, a damaged one or a newer schema.
   */
  static open(file: string): SqliteStore {
    const db = openWriteConnection(file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode is crash-safe for the database; a power cut may lose the last
      // transactions, which the children's metrics files restore on the next run.
      db.pragma('synchronous = NORMAL');
      // Off while migrating (a table rebuild drops the old table), on afterwards.
      db.pragma('foreign_keys = OFF');
      migrate(db, file);
      db.pragma('foreign_keys = ON');
      return new SqliteStore(file, db);
    } catch (error) {
      db.close();
      throw translate(file, error, 'write');
    }
  }

  // ---- sweeps -------------------------------------------------------------------------------

  registerSweep(input: SweepRegistration): SweepRecord {
    const t = now();
    this.statements.upsertSweep.run({
      name: input.name,
      spec_path: input.specPath,
      spec_json: JSON.stringify(input.spec),
      spec_hash: input.specHash,
      runs_dir: input.runsDir,
      t,
    });
    return this.getSweep(input.name);
  }

  // ---- runs ---------------------------------------------------------------------------------

  /** Adds runs not yet known as queued; refreshes name, order and folder of the others. */
  registerRuns(sweepPk: number, runs: Iterable<RunRegistration>): void {
    const t = now();
    this.transactImmediate(() => {
      for (const run of runs) {
        const inserted = this.statements.insertRun.run({
          sweep_pk: sweepPk,
          run_id: run.id,
          name: run.name,
          params_json: JSON.stringify(run.params),
          ordinal: run.ordinal,
          run_dir: run.runDir,
          origin: run.origin ?? null,
          t,
        });
        if (inserted.changes === 1) {
          this.statements.insertTransition.run(Number(inserted.lastInsertRowid), t, null, 'queued', 0, 'registered');
        } else {
          this.statements.refreshRun.run({
            sweep_pk: sweepPk,
            run_id: run.id,
            name: run.name,
            ordinal: run.ordinal,
            run_dir: run.runDir,
          });
        }
      }
    });
  }

  /** queued -> running for `owner` on `slot`; false when another orchestrator claimed it first. */
  claimRun(runPk: number, owner: string, slot: string, gpu: number | null): boolean {
    const t = now();
    return this.transactImmediate(() => {
      const changed = this.statements.claim.run({ pk: runPk, owner, slot, gpu, t }).changes === 1;
      if (changed) {
        const attempt = this.statements.attemptOf.get(runPk) as number;
        this.statements.insertTransition.run(runPk, t, 'queued', 'running', attempt, `slot ${slot}`);
      }
      return changed;
    });
  }

  setPid(runPk: number, owner: string, pid: number | null): void {
    this.statements.setPid.run(pid, runPk, owner);
  }

  /** Records the batch job running the held run's attempt (kept after the run ends, for status). */
  setJobId(runPk: number, owner: string, jobId: string | null): void {
    this.statements.setJobId.run(jobId, runPk, owner);
  }

  /**
   * A running run whose orchestrator died passes to `newOwner`, who follows its still-live batch
   * job (compare-and-set on the dead owner; the hand-over is kept in the run's history).
   */
  transferRun(runPk: number, deadOwner: string, newOwner: string, detail: string): boolean {
    const t = now();
    return this.transactImmediate(() => {
      const changed = this.statements.transfer.run(newOwner, runPk, deadOwner).changes === 1;
      if (changed) {
        const attempt = this.statements.attemptOf.get(runPk) as number;
        this.statements.insertTransition.run(runPk, t, 'running', 'running', attempt, detail);
      }
      return changed;
    });
  }

  /** running (held by `owner`) -> an end state. False when the run is not ours any more. */
  finishRun(runPk: number, owner: string, end: RunEnd): boolean {
    if (!END_STATES.includes(end.status))
      throw new ClipsweepError('STORE', `invalid run transition running -> ${end.status}: not an end state`);
    assertTransition('running', end.status);
    const t = now();
    return this.transactImmediate(() => {
      const changed =
        this.statements.finish.run({
          pk: runPk,
          owner,
          status: end.status,
          t,
          exit_code: end.exitCode ?? null,
          signal: end.signal ?? null,
          failure_kind: end.failureKind ?? null,
          reason: end.reason ?? null,
          stderr_tail: end.stderrTail ?? null,
          prune_rung: end.pruneRung ?? null,
        }).changes === 1;
      if (changed) {
        const attempt = this.statements.attemptOf.get(runPk) as number;
        this.statements.insertTransition.run(runPk, t, 'running', end.status, attempt, end.reason ?? null);
      }
      return changed;
    });
  }

  /**
   * Puts a run back in the queue if it is in one of `from` (and, for running runs, held by
   * `owner`). The failure fields of the previous attempt are kept until the next claim.
   */
  requeueRun(runPk: number, from: readonly RunStatus[], detail: string, owner?: string): boolean {
    for (const status of from) assertTransition(status, 'queued');
    const t = now();
    return this.transactImmediate(() => {
      const row = this.statements.stateOf.get(runPk) as
        { status: RunStatus; owner: string | null; attempt: number } | undefined;
      if (!row || !from.includes(row.status)) return false;
      if (row.status === 'running' && row.owner !== owner) return false;
      const changed = this.statements.requeue.run(t, runPk, row.status).changes === 1;
      if (changed) this.statements.insertTransition.run(runPk, t, row.status, 'queued', row.attempt, detail);
      return changed;
    });
  }

  /** A run left `running` by an orchestrator that died: its last attempt is interrupted. */
  markOrphaned(runPk: number, deadOwner: string, reason: string): boolean {
    const t = now();
    return this.transactImmediate(() => {
      const changed = this.statements.orphan.run(t, reason, runPk, deadOwner).changes === 1;
      if (changed) {
        const attempt = this.statements.attemptOf.get(runPk) as number;
        this.statements.insertTransition.run(runPk, t, 'running', 'interrupted', attempt, reason);
      }
      return changed;
    });
  }

  excludeGpu(runPk: number, gpu: number): number[] {
    const run = this.getRun(runPk);
    const excluded = [...new Set([...run.excludedGpus, gpu])].sort((a, b) => a - b);
    this.statements.setExcluded.run(JSON.stringify(excluded), runPk);
    return excluded;
  }

  /** For a deliberate re-run from scratch: forget the run's metrics, events and ingestion offset. */
  resetRunData(runPk: number): void {
    this.transactImmediate(() => {
      this.statements.deleteMetrics.run(runPk);
      this.statements.deleteEvents.run(runPk);
      this.statements.resetRun.run(runPk);
    });
  }

  // ---- metrics ------------------------------------------------------------------------------

  /** Writes every batch in one transaction: rows, events, offsets and counters together. */
  ingest(batches: readonly IngestBatch[]): void {
    if (batches.length === 0) return;
    const s = this.statements;
    try {
      this.ingestAll(batches, s);
    } catch (error) {
      // Rolled back: key rows inserted in it are gone, so their cached keys must go too.
      this.keyPks.clear();
      throw error;
    }
  }

  private ingestAll(batches: readonly IngestBatch[], s: ReturnType<typeof prepare>): void {
    this.transactImmediate(() => {
      for (const batch of batches) {
        for (const row of batch.metrics) {
          const nonfinite = nonFiniteOf(row.value);
          s.upsertMetric.run(
            batch.runPk,
            this.keyPk(row.key),
            row.step,
            Number.isNaN(row.value) ? null : row.value,
            nonfinite,
            row.epoch ?? null,
            row.time,
            batch.attempt,
          );
        }
        for (const event of batch.events) {
          s.upsertEvent.run(
            batch.runPk,
            event.offset,
            event.kind,
            event.step,
            JSON.stringify(event.payload),
            event.time,
          );
        }
        s.advanceRun.run({
          pk: batch.runPk,
          offset: batch.offset,
          lines: batch.lines,
          bad: batch.badLines,
          total_steps: batch.totalSteps ?? null,
          last_step: batch.lastStep ?? null,
          summary: batch.summary === undefined ? null : JSON.stringify(batch.summary),
        });
      }
    });
  }

  // ---- GPU use (src/store/gpu-use.ts) ----------------------------------------------------------

  recordGpuUse(runPk: number, peakMiB: number, utilMean: number | null): void {
    gpu.recordGpuUse(this.connection, runPk, peakMiB, utilMean);
  }

  recordGpuNeed(runPk: number, atLeastMiB: number): void {
    gpu.recordGpuNeed(this.connection, runPk, atLeastMiB);
  }

  addGpuSamples(sweepPk: number, samples: readonly GpuSample[]): void {
    gpu.addGpuSamples(this.connection, sweepPk, samples);
  }

  // ---- orchestrators (liveness, so a dead one's runs can be recovered) ------------------------

  registerOrchestrator(record: { id: string; pid: number; host: string }): void {
    const t = now();
    this.statements.insertOrchestrator.run(record.id, record.pid, record.host, t, t);
  }

  heartbeat(id: string): void {
    this.statements.heartbeat.run(now(), id);
  }

  endOrchestrator(id: string): void {
    const t = now();
    this.statements.endOrchestrator.run(t, t, id);
  }

  private keyPk(key: string): number {
    const known = this.findKeyPk(key);
    if (known !== undefined) return known;
    this.statements.insertKey.run(key);
    return this.findKeyPk(key)!;
  }
}

const END_STATES: readonly RunStatus[] = ['completed', 'failed', 'interrupted', 'infeasible', 'pruned'];

function assertTransition(from: RunStatus, to: RunStatus): void {
  if (!RUN_TRANSITIONS[from].includes(to)) throw new ClipsweepError('STORE', `invalid run transition ${from} -> ${to}`);
}

function prepare(db: ReturnType<typeof openWriteConnection>) {
  return {
    upsertSweep: db.prepare(
      `INSERT INTO sweeps (name, spec_path, spec_json, spec_hash, runs_dir, created_at, updated_at)
       VALUES (@name, @spec_path, @spec_json, @spec_hash, @runs_dir, @t, @t)
       ON CONFLICT (name) DO UPDATE SET spec_path = excluded.spec_path, spec_json = excluded.spec_json,
         spec_hash = excluded.spec_hash, runs_dir = excluded.runs_dir, updated_at = excluded.updated_at`,
    ),
    insertRun: db.prepare(
      `INSERT INTO runs (sweep_pk, run_id, name, params_json, ordinal, status, run_dir, origin, queued_at)
       VALUES (@sweep_pk, @run_id, @name, @params_json, @ordinal, 'queued', @run_dir, @origin, @t)
       ON CONFLICT (sweep_pk, run_id) DO NOTHING`,
    ),
    refreshRun: db.prepare(
      `UPDATE runs SET name = @name, ordinal = @ordinal,
         run_dir = CASE WHEN status = 'running' THEN run_dir ELSE @run_dir END
       WHERE sweep_pk = @sweep_pk AND run_id = @run_id`,
    ),
    attemptOf: db.prepare('SELECT attempt FROM runs WHERE pk = ?').pluck(),
    stateOf: db.prepare('SELECT status, owner, attempt FROM runs WHERE pk = ?'),
    transfer: db.prepare("UPDATE runs SET owner = ? WHERE pk = ? AND status = 'running' AND owner = ?"),
    orphan: db.prepare(
      "UPDATE runs SET status = 'interrupted', ended_at = ?, failure_kind = 'orphaned', reason = ?, pid = NULL WHERE pk = ? AND status = 'running' AND owner = ?",
    ),
    setExcluded: db.prepare('UPDATE runs SET excluded_gpus = ? WHERE pk = ?'),
    deleteMetrics: db.prepare('DELETE FROM metrics WHERE run_pk = ?'),
    deleteEvents: db.prepare('DELETE FROM events WHERE run_pk = ?'),
    resetRun: db.prepare(
      "UPDATE runs SET metrics_offset = 0, metric_lines = 0, bad_lines = 0, total_steps = NULL, last_step = NULL, summary_json = NULL, excluded_gpus = '[]' WHERE pk = ?",
    ),
    insertOrchestrator: db.prepare(
      'INSERT INTO orchestrators (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)',
    ),
    heartbeat: db.prepare('UPDATE orchestrators SET heartbeat_at = ? WHERE id = ?'),
    endOrchestrator: db.prepare('UPDATE orchestrators SET ended_at = ?, heartbeat_at = ? WHERE id = ?'),
    setPid: db.prepare("UPDATE runs SET pid = ? WHERE pk = ? AND owner = ? AND status = 'running'"),
    setJobId: db.prepare("UPDATE runs SET job_id = ? WHERE pk = ? AND owner = ? AND status = 'running'"),
    requeue: db.prepare(
      "UPDATE runs SET status = 'queued', queued_at = ?, owner = NULL, pid = NULL WHERE pk = ? AND status = ?",
    ),
    claim: db.prepare(
      `UPDATE runs SET status = 'running', owner = @owner, slot = @slot, gpu = @gpu, attempt = attempt + 1,
         started_at = @t, ended_at = NULL, pid = NULL, job_id = NULL, exit_code = NULL, signal = NULL, failure_kind = NULL,
         reason = NULL, stderr_tail = NULL, prune_rung = NULL
       WHERE pk = @pk AND status = 'queued'`,
    ),
    finish: db.prepare(
      `UPDATE runs SET status = @status, ended_at = @t, pid = NULL, exit_code = @exit_code, signal = @signal,
         failure_kind = @failure_kind, reason = @reason, stderr_tail = @stderr_tail, prune_rung = @prune_rung
       WHERE pk = @pk AND status = 'running' AND owner = @owner`,
    ),
    insertTransition: db.prepare(
      'INSERT INTO run_transitions (run_pk, at, from_status, to_status, attempt, detail) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertKey: db.prepare('INSERT OR IGNORE INTO metric_keys (key) VALUES (?)'),
    upsertMetric: db.prepare(
      `INSERT INTO metrics (run_pk, key_pk, step, value, nonfinite, epoch, time, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_pk, key_pk, step) DO UPDATE SET value = excluded.value, nonfinite = excluded.nonfinite,
         epoch = excluded.epoch, time = excluded.time, attempt = excluded.attempt`,
    ),
    upsertEvent: db.prepare(
      `INSERT INTO events (run_pk, file_offset, kind, step, payload_json, time) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_pk, file_offset) DO UPDATE SET kind = excluded.kind, step = excluded.step,
         payload_json = excluded.payload_json, time = excluded.time`,
    ),
    // Offsets only move forward, so a stale batch can never rewind a run's ingestion.
    advanceRun: db.prepare(
      `UPDATE runs SET metrics_offset = MAX(metrics_offset, @offset), metric_lines = metric_lines + @lines,
         bad_lines = bad_lines + @bad, total_steps = COALESCE(@total_steps, total_steps),
         last_step = MAX(COALESCE(last_step, -1), COALESCE(@last_step, -1)),
         summary_json = COALESCE(@summary, summary_json)
       WHERE pk = @pk`,
    ),
  };
}
