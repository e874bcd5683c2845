// The SQLite implementation of StoreReader, and the reads the writer (SqliteStore, which extends
// it) shares. Every statement is prepared once, here; rows become plain records at this edge,
// NaN and infinities decoded (SQLite stores NaN as NULL, so non-finite values are also named in
// metrics.nonfinite).
import type Database from 'better-sqlite3';
import { NotFoundError } from '../errors.js';
import type { StoreReader } from './interfaces.js';
import { openReadConnection } from './open.js';
import { decodeStored, VALUE_AS_TEXT_SQL } from './nonfinite.js';
import * as gpu from './gpu-use.js';
import type { GpuSample, MeasuredRun, RunGpuUse } from './gpu-use.js';
import type {
  MetricPoint,
  NonFinite,
  OrchestratorRecord,
  RunRecord,
  RunOrigin,
  RunStatus,
  RunTransition,
  SeriesColumns,
  StoredEvent,
  SweepRecord,
  SweepSummary,
} from './types.js';

/** A reader on its own read-only connection: never creates, initialises or migrates the file. */
export function openReader(file: string): StoreReader {
  return new SqliteReader(file, openReadConnection(file));
}

export class SqliteReader implements StoreReader {
  readonly file: string;
  /** For query modules under src/store/ only (a new read model adds its own file there). */
  readonly connection: Database.Database;
  protected readonly keyPks = new Map<string, number>();
  private readonly reads: ReturnType<typeof prepareReads>;

  constructor(file: string, db: Database.Database) {
    this.file = file;
    this.connection = db;
    this.reads = prepareReads(db);
  }

  close(): void {
    if (this.connection.open) this.connection.close();
  }

  getSweep(name: string): SweepRecord {
    const sweep = this.findSweep(name);
    if (!sweep) throw new NotFoundError(`no sweep named "${name}" in ${this.file}`);
    return sweep;
  }

  findSweep(name: string): SweepRecord | undefined {
    const row = this.reads.sweepByName.get(name) as SweepRow | undefined;
    return row ? toSweep(row) : undefined;
  }

  latestSweep(): SweepRecord | undefined {
    const row = this.reads.latestSweep.get() as SweepRow | undefined;
    return row ? toSweep(row) : undefined;
  }

  listSweeps(): SweepSummary[] {
    const sweeps = (this.reads.sweeps.all() as SweepRow[]).map(toSweep);
    const counts = this.reads.runCounts.all() as { sweep_pk: number; status: RunStatus; n: number }[];
    return sweeps.map((sweep) => {
      const mine = counts.filter((c) => c.sweep_pk === sweep.pk);
      return {
        ...sweep,
        counts: Object.fromEntries(mine.map((c) => [c.status, c.n])),
        total: mine.reduce((sum, c) => sum + c.n, 0),
      };
    });
  }

  listRuns(sweepPk: number): RunRecord[] {
    return (this.reads.runsOfSweep.all(sweepPk) as RunRow[]).map(toRun);
  }

  *eachRun(sweepPk: number, pageSize = 256): Generator<RunRecord> {
    let after = { ordinal: -Infinity, pk: 0 };
    for (;;) {
      const rows = this.reads.runsOfSweepAfter.all({
        sweep_pk: sweepPk,
        ordinal: after.ordinal,
        pk: after.pk,
        limit: pageSize,
      }) as RunRow[];
      for (const row of rows) yield toRun(row);
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < pageSize) return;
      after = { ordinal: last.ordinal, pk: last.pk };
    }
  }

  getRun(runPk: number): RunRecord {
    const row = this.reads.runByPk.get(runPk) as RunRow | undefined;
    if (!row) throw new NotFoundError(`no run with key ${runPk} in ${this.file}`);
    return toRun(row);
  }

  transitions(runPk: number): RunTransition[] {
    return (
      this.reads.transitions.all(runPk) as {
        at: number;
        from_status: RunStatus | null;
        to_status: RunStatus;
        attempt: number;
        detail: string | null;
      }[]
    ).map((r) => ({ at: r.at, from: r.from_status, to: r.to_status, attempt: r.attempt, detail: r.detail }));
  }

  events(runPk: number): StoredEvent[] {
    return (
      this.reads.events.all(runPk) as {
        file_offset: number;
        kind: string;
        step: number | null;
        payload_json: string;
        time: number | null;
      }[]
    ).map((r) => ({
      offset: r.file_offset,
      kind: r.kind,
      step: r.step,
      payload: JSON.parse(r.payload_json) as Record<string, unknown>,
      time: r.time,
    }));
  }

  /** One index probe per known key: no scan of the run's rows (a run may hold millions). */
  metricKeys(runPk: number): string[] {
    const out: string[] = [];
    for (const { pk, key } of this.reads.allKeys.all() as { pk: number; key: string }[]) {
      this.keyPks.set(key, pk);
      if (this.reads.probe.get(runPk, pk) !== undefined) out.push(key);
    }
    return out.sort();
  }

  series(runPk: number, key: string): MetricPoint[] {
    const keyPk = this.findKeyPk(key);
    if (keyPk === undefined) return [];
    return (this.reads.series.all(runPk, keyPk) as MetricValueRow[]).map((r) => ({
      step: r.step,
      value: decodeValue(r),
      epoch: r.epoch,
      time: r.time,
    }));
  }

  /**
   * One row per key, steps and values concatenated by SQLite: measured about twice as fast as one
   * row per point, whose per-row objects dominate the cost at 24 M points.
   */
  seriesColumns(runPk: number, keys: readonly string[]): Map<string, SeriesColumns> {
    const out = new Map<string, SeriesColumns>();
    for (const key of keys) {
      const keyPk = this.findKeyPk(key);
      if (keyPk === undefined) continue;
      const row = this.reads.concat.get(runPk, keyPk) as [string | null, string | null] | undefined;
      if (!row || row[0] === null || row[1] === null) continue;
      const stepText = row[0].split(',');
      const valueText = row[1].split(',');
      const steps = new Array<number>(stepText.length);
      const values = new Array<number>(stepText.length);
      let sorted = true;
      for (let i = 0; i < stepText.length; i++) {
        steps[i] = +stepText[i]!;
        values[i] = +valueText[i]!; // 'NaN', 'Infinity', '-Infinity' parse as such
        if (i > 0 && steps[i]! < steps[i - 1]!) sorted = false;
      }
      out.set(key, sorted ? { steps, values } : sortByStep(steps, values));
    }
    return out;
  }

  latestMetrics(sweepPk: number): Map<number, Map<string, { step: number; value: number }>> {
    const out = new Map<number, Map<string, { step: number; value: number }>>();
    for (const row of this.reads.latest.all(sweepPk) as (MetricValueRow & { run_pk: number; key: string })[]) {
      perRun(out, row.run_pk).set(row.key, { step: row.step, value: decodeValue(row) });
    }
    return out;
  }

  metricExtremes(sweepPk: number): Map<number, Map<string, { min: number; max: number }>> {
    const out = new Map<number, Map<string, { min: number; max: number }>>();
    for (const row of this.reads.extremes.all(sweepPk) as { run_pk: number; key: string; min: number; max: number }[]) {
      perRun(out, row.run_pk).set(row.key, { min: row.min, max: row.max });
    }
    return out;
  }

  metricOutcomes(
    sweepPk: number,
    key: string,
  ): Map<number, { min: number; max: number; lastStep: number; last: number }> {
    const out = new Map<number, { min: number; max: number; lastStep: number; last: number }>();
    const keyPk = this.findKeyPk(key);
    if (keyPk === undefined) return out;
    const rows = this.connection
      .prepare(
        `SELECT m.run_pk, MIN(m.value) AS min, MAX(m.value) AS max, MAX(m.step) AS last_step FROM metrics m
         WHERE m.key_pk = ? AND m.run_pk IN (SELECT pk FROM runs WHERE sweep_pk = ?) GROUP BY m.run_pk`,
      )
      .all(keyPk, sweepPk) as { run_pk: number; min: number | null; max: number | null; last_step: number }[];
    const lastValue = this.connection.prepare(
      'SELECT value, nonfinite FROM metrics WHERE run_pk = ? AND key_pk = ? AND step = ?',
    );
    for (const row of rows) {
      const last = lastValue.get(row.run_pk, keyPk, row.last_step) as {
        value: number | null;
        nonfinite: NonFinite | null;
      };
      out.set(row.run_pk, {
        min: row.min ?? NaN,
        max: row.max ?? NaN,
        lastStep: row.last_step,
        last: decodeValue(last),
      });
    }
    return out;
  }

  findRunPk(sweepPk: number, runId: string): number | undefined {
    const row = this.connection.prepare('SELECT pk FROM runs WHERE sweep_pk = ? AND run_id = ?').get(sweepPk, runId) as
      { pk: number } | undefined;
    return row?.pk;
  }

  *iterateMetrics(sweepPk: number): Generator<{
    runId: string;
    runName: string;
    key: string;
    step: number;
    value: number;
    epoch: number | null;
    time: number | null;
  }> {
    // The statement is prepared per call: a prepared statement cannot be iterated twice at once.
    const rows = this.connection.prepare(ITERATE_METRICS).iterate(sweepPk) as IterableIterator<
      MetricValueRow & { run_id: string; name: string; key: string }
    >;
    for (const row of rows) {
      yield {
        runId: row.run_id,
        runName: row.name,
        key: row.key,
        step: row.step,
        value: decodeValue(row),
        epoch: row.epoch,
        time: row.time,
      };
    }
  }

  // GPU use (src/store/gpu-use.ts).
  gpuSamples(sweepPk: number): GpuSample[] {
    return gpu.gpuSamples(this.connection, sweepPk);
  }

  runGpuUse(sweepPk: number): Map<number, RunGpuUse> {
    return gpu.runGpuUse(this.connection, sweepPk);
  }

  measuredRuns(sweepPk: number | null = null): MeasuredRun[] {
    return gpu.measuredRuns(this.connection, sweepPk);
  }

  countMetrics(runPk: number): number {
    return this.reads.countMetrics.get(runPk) as number;
  }

  getOrchestrator(id: string): OrchestratorRecord | undefined {
    const row = this.reads.orchestrator.get(id) as
      | { id: string; pid: number; host: string; started_at: number; heartbeat_at: number; ended_at: number | null }
      | undefined;
    return (
      row && {
        id: row.id,
        pid: row.pid,
        host: row.host,
        startedAt: row.started_at,
        heartbeatAt: row.heartbeat_at,
        endedAt: row.ended_at,
      }
    );
  }

  /** A key's row key; keys only ever get added, so a found one is cached for good. */
  protected findKeyPk(key: string): number | undefined {
    const cached = this.keyPks.get(key);
    if (cached !== undefined) return cached;
    const pk = this.reads.keyByName.get(key) as number | undefined;
    if (pk !== undefined) this.keyPks.set(key, pk);
    return pk;
  }
}

const ITERATE_METRICS = `SELECT r.run_id, r.name, k.key, m.step, m.value, m.nonfinite, m.epoch, m.time FROM metrics m
  JOIN runs r ON r.pk = m.run_pk JOIN metric_keys k ON k.pk = m.key_pk
  WHERE r.sweep_pk = ? ORDER BY r.ordinal, k.key, m.step`;

function prepareReads(db: Database.Database) {
  return {
    sweepByName: db.prepare('SELECT * FROM sweeps WHERE name = ?'),
    latestSweep: db.prepare('SELECT * FROM sweeps ORDER BY updated_at DESC, pk DESC LIMIT 1'),
    sweeps: db.prepare('SELECT * FROM sweeps ORDER BY created_at, pk'),
    runCounts: db.prepare('SELECT sweep_pk, status, COUNT(*) AS n FROM runs GROUP BY sweep_pk, status'),
    runsOfSweep: db.prepare('SELECT * FROM runs WHERE sweep_pk = ? ORDER BY ordinal, pk'),
    runsOfSweepAfter: db.prepare(
      `SELECT * FROM runs WHERE sweep_pk = @sweep_pk AND (ordinal > @ordinal OR (ordinal = @ordinal AND pk > @pk))
       ORDER BY ordinal, pk LIMIT @limit`,
    ),
    runByPk: db.prepare('SELECT * FROM runs WHERE pk = ?'),
    transitions: db.prepare(
      'SELECT at, from_status, to_status, attempt, detail FROM run_transitions WHERE run_pk = ? ORDER BY rowid',
    ),
    events: db.prepare(
      'SELECT file_offset, kind, step, payload_json, time FROM events WHERE run_pk = ? ORDER BY file_offset',
    ),
    allKeys: db.prepare('SELECT pk, key FROM metric_keys'),
    keyByName: db.prepare('SELECT pk FROM metric_keys WHERE key = ?').pluck(),
    probe: db.prepare('SELECT 1 FROM metrics WHERE run_pk = ? AND key_pk = ? LIMIT 1').pluck(),
    series: db.prepare(
      'SELECT step, value, nonfinite, epoch, time FROM metrics WHERE run_pk = ? AND key_pk = ? ORDER BY step',
    ),
    // Infinities are spelled out (SQLite would print "Inf"); REAL prints with 15 significant
    // digits. No ORDER BY inside group_concat (it sorts: 3x slower): rows come in primary-key
    // order, (run_pk, key_pk, step); seriesColumns checks the order and sorts if it ever is not.
    concat: db
      .prepare(
        `SELECT group_concat(step, ','),
                group_concat(${VALUE_AS_TEXT_SQL}, ',')
         FROM metrics WHERE run_pk = ? AND key_pk = ?`,
      )
      .raw(true),
    latest: db.prepare(
      `SELECT m.run_pk, k.key, m.step, m.value, m.nonfinite FROM metrics m
       JOIN metric_keys k ON k.pk = m.key_pk
       JOIN (SELECT run_pk, key_pk, MAX(step) AS step FROM metrics WHERE run_pk IN (SELECT pk FROM runs WHERE sweep_pk = ?) GROUP BY run_pk, key_pk) last
         ON last.run_pk = m.run_pk AND last.key_pk = m.key_pk AND last.step = m.step`,
    ),
    extremes: db.prepare(
      `SELECT m.run_pk, k.key, MIN(m.value) AS min, MAX(m.value) AS max FROM metrics m
       JOIN metric_keys k ON k.pk = m.key_pk
       WHERE m.run_pk IN (SELECT pk FROM runs WHERE sweep_pk = ?) AND m.value IS NOT NULL
       GROUP BY m.run_pk, m.key_pk`,
    ),
    countMetrics: db.prepare('SELECT COUNT(*) FROM metrics WHERE run_pk = ?').pluck(),
    orchestrator: db.prepare('SELECT * FROM orchestrators WHERE id = ?'),
  };
}

function perRun<T>(out: Map<number, Map<string, T>>, runPk: number): Map<string, T> {
  let map = out.get(runPk);
  if (!map) out.set(runPk, (map = new Map()));
  return map;
}

function sortByStep(steps: number[], values: number[]): SeriesColumns {
  const order = steps.map((_, i) => i).sort((a, b) => steps[a]! - steps[b]!);
  return { steps: order.map((i) => steps[i]!), values: order.map((i) => values[i]!) };
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

/** A runs row; columns added by later migrations are absent from older files, hence optional. */
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
  prune_rung?: number | null;
  job_id?: string | null;
  origin?: RunOrigin | null;
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
    origin: row.origin ?? null,
    jobId: row.job_id ?? null,
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

function decodeValue(row: { value: number | null; nonfinite: NonFinite | null }): number {
  return decodeStored(row.value, row.nonfinite);
}
