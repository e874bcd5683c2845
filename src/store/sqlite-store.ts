// The SQLite store. Only the orchestrator process writes it (children never open the database),
// in batched transactions; WAL lets `sweep status` and `sweep report` read while a sweep runs.
import * as gpu from './gpu-use.js';
import type { GpuSample, MeasuredRun, RunGpuUse } from './gpu-use.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ClipsweepError, NotFoundError } from '../errors.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import {
  RUN_TRANSITIONS,
  type IngestBatch,
  type MetricPoint,
  type NonFinite,
  type OrchestratorRecord,
  type RunEnd,
  type RunRecord,
  type RunRegistration,
  type RunStatus,
  type SweepRecord,
  type SweepSummary,
} from './types.js';

const now = (): number => Date.now() / 1000;

export interface SweepRegistration {
  name: string;
  specPath: string | null;
  spec: unknown;
  specHash: string;
  runsDir: string;
}

export class SqliteStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly keyPks = new Map<string, number>();
  private readonly statements: ReturnType<typeof prepare>;
  /**
   * Transaction wrappers built once: db.transaction() builds four wrapper functions with their
   * properties on every call, which was a large share of each run's bookkeeping garbage.
   */
  private readonly transact: <T>(body: () => T) => T;
  private readonly transactImmediate: <T>(body: () => T) => T;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    this.statements = prepare(db);
    const wrapper = db.transaction((body: () => unknown) => body());
    this.transact = wrapper.default as <T>(body: () => T) => T;
    this.transactImmediate = wrapper.immediate as <T>(body: () => T) => T;
  }

  static open(file: string, options: { readonly?: boolean } = {}): SqliteStore {
    let db: Database.Database;
    try {
      if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (error) {
      throw new ClipsweepError('STORE', `${file}: cannot open the database: ${(error as Error).message}`, { cause: error });
    }
    db.pragma('busy_timeout = 10000');
    if (options.readonly && (db.pragma('user_version', { simple: true }) as number) < SCHEMA_VERSION) {
      // A reader of a database written by an older clipsweep upgrades it first (migrations keep
      // every row), then reads it as usual.
      db.close();
      SqliteStore.open(file).close();
      return SqliteStore.open(file, options);
    }
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode is crash-safe for the database; a power cut may lose the last
      // transactions, which the children's metrics files restore on the next run.
      db.pragma('synchronous = NORMAL');
      // Off while migrating (a table rebuild drops the old table), on afterwards.
      db.pragma('foreign_keys = OFF');
      migrate(db, file);
      db.pragma('foreign_keys = ON');
    }
    return new SqliteStore(file, db);
  }

  close(): void {
    if (this.db.open) this.db.close();
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

  getSweep(name: string): SweepRecord {
    const row = this.statements.sweepByName.get(name) as SweepRow | undefined;
    if (!row) throw new NotFoundError(`no sweep named "${name}" in ${this.file}`);
    return toSweep(row);
  }

  findSweep(name: string): SweepRecord | undefined {
    const row = this.statements.sweepByName.get(name) as SweepRow | undefined;
    return row ? toSweep(row) : undefined;
  }

  /** The sweep most recently registered or updated, if any. */
  latestSweep(): SweepRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sweeps ORDER BY updated_at DESC, pk DESC LIMIT 1').get() as SweepRow | undefined;
    return row ? toSweep(row) : undefined;
  }

  listSweeps(): SweepSummary[] {
    const sweeps = (this.db.prepare('SELECT * FROM sweeps ORDER BY created_at, pk').all() as SweepRow[]).map(toSweep);
    const counts = this.db.prepare('SELECT sweep_pk, status, COUNT(*) AS n FROM runs GROUP BY sweep_pk, status').all() as {
      sweep_pk: number;
      status: RunStatus;
      n: number;
    }[];
    return sweeps.map((sweep) => {
      const mine = counts.filter((c) => c.sweep_pk === sweep.pk);
      return {
        ...sweep,
        counts: Object.fromEntries(mine.map((c) => [c.status, c.n])),
        total: mine.reduce((sum, c) => sum + c.n, 0),
      };
    });
  }

  // ---- runs ---------------------------------------------------------------------------------

  /** Adds runs not yet known as queued; refreshes name, order and folder of the others. */
  registerRuns(sweepPk: number, runs: Iterable<RunRegistration>): void {
    const t = now();
    this.transact(() => {
      for (const run of runs) {
        const inserted = this.statements.insertRun.run({
          sweep_pk: sweepPk,
          run_id: run.id,
          name: run.name,
          params_json: JSON.stringify(run.params),
          ordinal: run.ordinal,
          run_dir: run.runDir,
          t,
        });
        if (inserted.changes === 1) {
          this.statements.insertTransition.run(Number(inserted.lastInsertRowid), t, null, 'queued', 0, 'registered');
        } else {
          this.statements.refreshRun.run({ sweep_pk: sweepPk, run_id: run.id, name: run.name, ordinal: run.ordinal, run_dir: run.runDir });
        }
      }
    });
  }

  listRuns(sweepPk: number): RunRecord[] {
    return (this.statements.runsOfSweep.all(sweepPk) as RunRow[]).map(toRun);
  }

  /**
   * The sweep's runs in listRuns order, read `pageSize` at a time: a sweep of any size costs one
   * page of records, and the caller may write to the store between pages (no statement stays open).
   */
  *eachRun(sweepPk: number, pageSize = 256): Generator<RunRecord> {
    let after = { ordinal: -Infinity, pk: 0 };
    for (;;) {
      const rows = this.statements.runsOfSweepAfter.all({ sweep_pk: sweepPk, ordinal: after.ordinal, pk: after.pk, limit: pageSize }) as RunRow[];
      for (const row of rows) yield toRun(row);
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < pageSize) return;
      after = { ordinal: last.ordinal, pk: last.pk };
    }
  }

  getRun(runPk: number): RunRecord {
    const row = this.statements.runByPk.get(runPk) as RunRow | undefined;
    if (!row) throw new NotFoundError(`no run with key ${runPk} in ${this.file}`);
    return toRun(row);
  }

  /** queued -> running for `owner` on `slot`; false when another orchestrator claimed it first. */
  claimRun(runPk: number, owner: string, slot: string, gpu: number | null): boolean {
    const t = now();
    return this.transactImmediate(() => {
      const changed = this.statements.claim.run({ pk: runPk, owner, slot, gpu, t }).changes === 1;
      if (changed) {
        const attempt = (this.statements.runByPk.get(runPk) as RunRow).attempt;
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
      const changed = this.db
        .prepare("UPDATE runs SET owner = ? WHERE pk = ? AND status = 'running' AND owner = ?")
        .run(newOwner, runPk, deadOwner).changes === 1;
      if (changed) {
        const attempt = (this.statements.runByPk.get(runPk) as RunRow).attempt;
        this.statements.insertTransition.run(runPk, t, 'running', 'running', attempt, detail);
      }
      return changed;
    });
  }

  /** running (held by `owner`) -> an end state. False when the run is not ours any more. */
  finishRun(runPk: number, owner: string, end: RunEnd): boolean {
    if (!END_STATES.includes(end.status)) throw new ClipsweepError('STORE', `invalid run transition running -> ${end.status}: not an end state`);
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
        const attempt = (this.statements.runByPk.get(runPk) as RunRow).attempt;
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
      const row = this.statements.runByPk.get(runPk) as RunRow | undefined;
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
      const changed = this.db
        .prepare(
          "UPDATE runs SET status = 'interrupted', ended_at = ?, failure_kind = 'orphaned', reason = ?, pid = NULL WHERE pk = ? AND status = 'running' AND owner = ?",
        )
        .run(t, reason, runPk, deadOwner).changes === 1;
      if (changed) {
        const attempt = (this.statements.runByPk.get(runPk) as RunRow).attempt;
        this.statements.insertTransition.run(runPk, t, 'running', 'interrupted', attempt, reason);
      }
      return changed;
    });
  }

  excludeGpu(runPk: number, gpu: number): number[] {
    const run = this.getRun(runPk);
    const excluded = [...new Set([...run.excludedGpus, gpu])].sort((a, b) => a - b);
    this.db.prepare('UPDATE runs SET excluded_gpus = ? WHERE pk = ?').run(JSON.stringify(excluded), runPk);
    return excluded;
  }

  /** For a deliberate re-run from scratch: forget the run's metrics, events and ingestion offset. */
  resetRunData(runPk: number): void {
    this.transact(() => {
      this.db.prepare('DELETE FROM metrics WHERE run_pk = ?').run(runPk);
      this.db.prepare('DELETE FROM events WHERE run_pk = ?').run(runPk);
      this.db
        .prepare(
          'UPDATE runs SET metrics_offset = 0, metric_lines = 0, bad_lines = 0, total_steps = NULL, last_step = NULL, summary_json = NULL, excluded_gpus = ? WHERE pk = ?',
        )
        .run('[]', runPk);
    });
  }

  transitions(runPk: number): { at: number; from: RunStatus | null; to: RunStatus; attempt: number; detail: string | null }[] {
    return (
      this.db.prepare('SELECT at, from_status, to_status, attempt, detail FROM run_transitions WHERE run_pk = ? ORDER BY rowid').all(runPk) as {
        at: number;
        from_status: RunStatus | null;
        to_status: RunStatus;
        attempt: number;
        detail: string | null;
      }[]
    ).map((r) => ({ at: r.at, from: r.from_status, to: r.to_status, attempt: r.attempt, detail: r.detail }));
  }

  // ---- metrics ------------------------------------------------------------------------------

  /** Writes every batch in one transaction: rows, events, offsets and counters together. */
  ingest(batches: readonly IngestBatch[]): void {
    if (batches.length === 0) return;
    const s = this.statements;
    this.transact(() => {
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
          s.upsertEvent.run(batch.runPk, event.offset, event.kind, event.step, JSON.stringify(event.payload), event.time);
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

  metricKeys(runPk: number): string[] {
    return (
      this.db
        .prepare('SELECT DISTINCT k.key FROM metrics m JOIN metric_keys k ON k.pk = m.key_pk WHERE m.run_pk = ? ORDER BY k.key')
        .all(runPk) as { key: string }[]
    ).map((r) => r.key);
  }

  series(runPk: number, key: string): MetricPoint[] {
    const keyPk = this.findKeyPk(key);
    if (keyPk === undefined) return [];
    return (
      this.db
        .prepare('SELECT step, value, nonfinite, epoch, time FROM metrics WHERE run_pk = ? AND key_pk = ? ORDER BY step')
        .all(runPk, keyPk) as MetricValueRow[]
    ).map((r) => ({ step: r.step, value: decodeValue(r), epoch: r.epoch, time: r.time }));
  }

  /** The latest value (highest step) of every metric of every run of a sweep. */
  latestMetrics(sweepPk: number): Map<number, Map<string, { step: number; value: number }>> {
    const rows = this.db
      .prepare(
        `SELECT m.run_pk, k.key, m.step, m.value, m.nonfinite FROM metrics m
         JOIN metric_keys k ON k.pk = m.key_pk
         JOIN (SELECT run_pk, key_pk, MAX(step) AS step FROM metrics WHERE run_pk IN (SELECT pk FROM runs WHERE sweep_pk = ?) GROUP BY run_pk, key_pk) last
           ON last.run_pk = m.run_pk AND last.key_pk = m.key_pk AND last.step = m.step`,
      )
      .all(sweepPk) as (MetricValueRow & { run_pk: number; key: string })[];
    const out = new Map<number, Map<string, { step: number; value: number }>>();
    for (const row of rows) {
      let perRun = out.get(row.run_pk);
      if (!perRun) out.set(row.run_pk, (perRun = new Map()));
      perRun.set(row.key, { step: row.step, value: decodeValue(row) });
    }
    return out;
  }

  /** Minimum and maximum of every metric of every run of a sweep (NaN rows ignored). */
  metricExtremes(sweepPk: number): Map<number, Map<string, { min: number; max: number }>> {
    const rows = this.db
      .prepare(
        `SELECT m.run_pk, k.key, MIN(m.value) AS min, MAX(m.value) AS max FROM metrics m
         JOIN metric_keys k ON k.pk = m.key_pk
         WHERE m.run_pk IN (SELECT pk FROM runs WHERE sweep_pk = ?) AND m.value IS NOT NULL
         GROUP BY m.run_pk, m.key_pk`,
      )
      .all(sweepPk) as { run_pk: number; key: string; min: number; max: number }[];
    const out = new Map<number, Map<string, { min: number; max: number }>>();
    for (const row of rows) {
      let perRun = out.get(row.run_pk);
      if (!perRun) out.set(row.run_pk, (perRun = new Map()));
      perRun.set(row.key, { min: row.min, max: row.max });
    }
    return out;
  }

  /** Every metric row of a sweep, streamed in (run, key, step) order. */
  *iterateMetrics(sweepPk: number): Generator<{ runId: string; runName: string; key: string; step: number; value: number; epoch: number | null; time: number | null }> {
    const rows = this.db
      .prepare(
        `SELECT r.run_id, r.name, k.key, m.step, m.value, m.nonfinite, m.epoch, m.time FROM metrics m
         JOIN runs r ON r.pk = m.run_pk JOIN metric_keys k ON k.pk = m.key_pk
         WHERE r.sweep_pk = ? ORDER BY r.ordinal, k.key, m.step`,
      )
      .iterate(sweepPk) as IterableIterator<MetricValueRow & { run_id: string; name: string; key: string }>;
    for (const row of rows) {
      yield { runId: row.run_id, runName: row.name, key: row.key, step: row.step, value: decodeValue(row), epoch: row.epoch, time: row.time };
    }
  }

  countMetrics(runPk: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_pk = ?').get(runPk) as { n: number }).n;
  }

  events(runPk: number): { offset: number; kind: string; step: number | null; payload: Record<string, unknown>; time: number | null }[] {
    return (
      this.db.prepare('SELECT file_offset, kind, step, payload_json, time FROM events WHERE run_pk = ? ORDER BY file_offset').all(runPk) as {
        file_offset: number;
        kind: string;
        step: number | null;
        payload_json: string;
        time: number | null;
      }[]
    ).map((r) => ({ offset: r.file_offset, kind: r.kind, step: r.step, payload: JSON.parse(r.payload_json) as Record<string, unknown>, time: r.time }));
  }

  // ---- orchestrators (liveness, so a dead one's runs can be recovered) ------------------------

  // GPU use (src/store/gpu-use.ts).
  recordGpuUse(runPk: number, peakMiB: number, utilMean: number | null): void {
    gpu.recordGpuUse(this.db, runPk, peakMiB, utilMean);
  }

  recordGpuNeed(runPk: number, atLeastMiB: number): void {
    gpu.recordGpuNeed(this.db, runPk, atLeastMiB);
  }

  addGpuSamples(sweepPk: number, samples: readonly GpuSample[]): void {
    gpu.addGpuSamples(this.db, sweepPk, samples);
  }

  gpuSamples(sweepPk: number): GpuSample[] {
    return gpu.gpuSamples(this.db, sweepPk);
  }

  runGpuUse(sweepPk: number): Map<number, RunGpuUse> {
    return gpu.runGpuUse(this.db, sweepPk);
  }

  measuredRuns(sweepPk: number | null = null): MeasuredRun[] {
    return gpu.measuredRuns(this.db, sweepPk);
  }

  registerOrchestrator(record: { id: string; pid: number; host: string }): void {
    const t = now();
    this.db.prepare('INSERT INTO orchestrators (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)').run(record.id, record.pid, record.host, t, t);
  }

  heartbeat(id: string): void {
    this.db.prepare('UPDATE orchestrators SET heartbeat_at = ? WHERE id = ?').run(now(), id);
  }

  endOrchestrator(id: string): void {
    this.db.prepare('UPDATE orchestrators SET ended_at = ?, heartbeat_at = ? WHERE id = ?').run(now(), now(), id);
  }

  getOrchestrator(id: string): OrchestratorRecord | undefined {
    const row = this.db.prepare('SELECT * FROM orchestrators WHERE id = ?').get(id) as
      | { id: string; pid: number; host: string; started_at: number; heartbeat_at: number; ended_at: number | null }
      | undefined;
    return row && { id: row.id, pid: row.pid, host: row.host, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, endedAt: row.ended_at };
  }

  private keyPk(key: string): number {
    let pk = this.keyPks.get(key);
    if (pk === undefined) {
      this.statements.insertKey.run(key);
      pk = (this.statements.keyByName.get(key) as { pk: number }).pk;
      this.keyPks.set(key, pk);
    }
    return pk;
  }

  private findKeyPk(key: string): number | undefined {
    return this.keyPks.get(key) ?? (this.statements.keyByName.get(key) as { pk: number } | undefined)?.pk;
  }
}

const END_STATES: readonly RunStatus[] = ['completed', 'failed', 'interrupted', 'infeasible', 'pruned'];

function assertTransition(from: RunStatus, to: RunStatus): void {
  if (!RUN_TRANSITIONS[from].includes(to)) throw new ClipsweepError('STORE', `invalid run transition ${from} -> ${to}`);
}

function prepare(db: Database.Database) {
  return {
    upsertSweep: db.prepare(
      `INSERT INTO sweeps (name, spec_path, spec_json, spec_hash, runs_dir, created_at, updated_at)
       VALUES (@name, @spec_path, @spec_json, @spec_hash, @runs_dir, @t, @t)
       ON CONFLICT (name) DO UPDATE SET spec_path = excluded.spec_path, spec_json = excluded.spec_json,
         spec_hash = excluded.spec_hash, runs_dir = excluded.runs_dir, updated_at = excluded.updated_at`,
    ),
    sweepByName: db.prepare('SELECT * FROM sweeps WHERE name = ?'),
    insertRun: db.prepare(
      `INSERT INTO runs (sweep_pk, run_id, name, params_json, ordinal, status, run_dir, queued_at)
       VALUES (@sweep_pk, @run_id, @name, @params_json, @ordinal, 'queued', @run_dir, @t)
       ON CONFLICT (sweep_pk, run_id) DO NOTHING`,
    ),
    refreshRun: db.prepare(
      `UPDATE runs SET name = @name, ordinal = @ordinal,
         run_dir = CASE WHEN status = 'running' THEN run_dir ELSE @run_dir END
       WHERE sweep_pk = @sweep_pk AND run_id = @run_id`,
    ),
    runsOfSweep: db.prepare('SELECT * FROM runs WHERE sweep_pk = ? ORDER BY ordinal, pk'),
    runByPk: db.prepare('SELECT * FROM runs WHERE pk = ?'),
    runsOfSweepAfter: db.prepare(
      `SELECT * FROM runs WHERE sweep_pk = @sweep_pk AND (ordinal > @ordinal OR (ordinal = @ordinal AND pk > @pk))
       ORDER BY ordinal, pk LIMIT @limit`,
    ),
    setPid: db.prepare("UPDATE runs SET pid = ? WHERE pk = ? AND owner = ? AND status = 'running'"),
    setJobId: db.prepare("UPDATE runs SET job_id = ? WHERE pk = ? AND owner = ? AND status = 'running'"),
    requeue: db.prepare("UPDATE runs SET status = 'queued', queued_at = ?, owner = NULL, pid = NULL WHERE pk = ? AND status = ?"),
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
    insertTransition: db.prepare('INSERT INTO run_transitions (run_pk, at, from_status, to_status, attempt, detail) VALUES (?, ?, ?, ?, ?, ?)'),
    insertKey: db.prepare('INSERT OR IGNORE INTO metric_keys (key) VALUES (?)'),
    keyByName: db.prepare('SELECT pk FROM metric_keys WHERE key = ?'),
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

interface SweepRow {
  pk: number;
  name: string;
  spec_path: string | null;
  spec_json: string;
  spec_hash: string;
  runs_dir: string;
  created_at: number;
  updated_at: number;
}

interface RunRow {
  pk: number;
  sweep_pk: number;
  run_id: string;
  name: string;
  params_json: string;
  ordinal: number;
  status: RunStatus;
  attempt: number;
  slot: string | null;
  gpu: number | null;
  owner: string | null;
  pid: number | null;
  prune_rung: number | null;
  job_id: string | null;
  run_dir: string;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  failure_kind: RunRecord['failureKind'];
  reason: string | null;
  stderr_tail: string | null;
  excluded_gpus: string;
  total_steps: number | null;
  last_step: number | null;
  metrics_offset: number;
  metric_lines: number;
  bad_lines: number;
  summary_json: string | null;
}

interface MetricValueRow {
  step: number;
  value: number | null;
  nonfinite: NonFinite | null;
  epoch: number | null;
  time: number | null;
}

function toSweep(row: SweepRow): SweepRecord {
  return {
    pk: row.pk,
    name: row.name,
    specPath: row.spec_path,
    spec: JSON.parse(row.spec_json) as unknown,
    specHash: row.spec_hash,
    runsDir: row.runs_dir,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRun(row: RunRow): RunRecord {
  return {
    pk: row.pk,
    sweepPk: row.sweep_pk,
    id: row.run_id,
    name: row.name,
    params: JSON.parse(row.params_json) as Record<string, unknown>,
    ordinal: row.ordinal,
    status: row.status,
    attempt: row.attempt,
    slot: row.slot,
    gpu: row.gpu,
    owner: row.owner,
    pid: row.pid,
    pruneRung: row.prune_rung ?? null,
    jobId: row.job_id,
    runDir: row.run_dir,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    signal: row.signal,
    failureKind: row.failure_kind,
    reason: row.reason,
    stderrTail: row.stderr_tail,
    excludedGpus: JSON.parse(row.excluded_gpus) as number[],
    totalSteps: row.total_steps,
    lastStep: row.last_step === -1 ? null : row.last_step,
    metricsOffset: row.metrics_offset,
    metricLines: row.metric_lines,
    badLines: row.bad_lines,
    summary: row.summary_json === null ? null : (JSON.parse(row.summary_json) as unknown),
  };
}

function nonFiniteOf(value: number): NonFinite | null {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return null;
}

function decodeValue(row: { value: number | null; nonfinite: NonFinite | null }): number {
  if (row.nonfinite === 'nan' || row.value === null) return NaN;
  return row.value;
}
