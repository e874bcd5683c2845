// Reads for `sweep serve`: a read-only connection that is polled about once a second while a
// sweep runs. Every query here is either a change probe (PRAGMA data_version, one row per run) or
// an index range on the metrics primary key (run_pk, key_pk, step), so a poll costs the same with
// 24 M rows as with 24. Never writes; schema in migrations.ts.
import type Database from 'better-sqlite3';
import { openReadConnection } from './open.js';
import { decodeStored, VALUE_AS_TEXT_SQL } from './nonfinite.js';
import type { RunStatus } from './types.js';

/** The columns of a run the live page shows and the poller compares between ticks. */
export interface LiveRunRow {
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
  runDir: string;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
  failureKind: string | null;
  reason: string | null;
  totalSteps: number | null;
  lastStep: number | null;
  metricLines: number;
  pruneRung: number | null;
  summary: unknown;
}

export interface LiveSweepRow {
  pk: number;
  name: string;
  runsDir: string;
  spec: unknown;
  createdAt: number;
  updatedAt: number;
  counts: Partial<Record<RunStatus, number>>;
  total: number;
}

/** Parallel arrays; value is NaN / +-Infinity where the row says so; epoch null where unknown. */
export interface LivePoints {
  steps: number[];
  values: number[];
  epochs: (number | null)[];
}

interface RunRowRaw {
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
  run_dir: string;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  failure_kind: string | null;
  reason: string | null;
  total_steps: number | null;
  last_step: number | null;
  metric_lines: number;
  prune_rung: number | null;
  summary_json: string | null;
}

const RUN_COLUMN_LIST = [
  'pk',
  'sweep_pk',
  'run_id',
  'name',
  'params_json',
  'ordinal',
  'status',
  'attempt',
  'slot',
  'gpu',
  'run_dir',
  'queued_at',
  'started_at',
  'ended_at',
  'failure_kind',
  'reason',
  'total_steps',
  'last_step',
  'metric_lines',
  'prune_rung',
  'summary_json',
] as const;

export class LiveReader {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly keyPks = new Map<string, number>();
  private readonly s: Record<string, Database.Statement>;

  /**
   * `connection`: a reader's (SqliteReader.connection), or by default one of its own from the
   * readers' opener: read-only, never creates or migrates, refuses a file that is not
   * clipsweep's with a one-line error.
   */
  constructor(file: string, connection: Database.Database = openReadConnection(file)) {
    this.file = file;
    this.db = connection;
    // Files of older schema versions lack later columns: read them as null.
    const columns = new Set(this.db.prepare("SELECT name FROM pragma_table_info('runs')").pluck().all() as string[]);
    const RUN_COLUMNS = RUN_COLUMN_LIST.map((c) => (columns.has(c) ? c : `NULL AS ${c}`)).join(', ');
    this.s = {
      sweeps: this.db.prepare(
        'SELECT pk, name, runs_dir, spec_json, created_at, updated_at FROM sweeps ORDER BY created_at, pk',
      ),
      counts: this.db.prepare('SELECT sweep_pk, status, COUNT(*) AS n FROM runs GROUP BY sweep_pk, status'),
      runs: this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE sweep_pk = ? ORDER BY ordinal, pk`),
      run: this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE sweep_pk = ? AND run_id = ?`),
      stderr: this.db.prepare('SELECT stderr_tail FROM runs WHERE pk = ?').pluck(),
      keys: this.db.prepare('SELECT pk, key FROM metric_keys'),
      probe: this.db.prepare('SELECT 1 FROM metrics WHERE run_pk = ? AND key_pk = ? LIMIT 1').pluck(),
      since: this.db
        .prepare(
          'SELECT step, value, nonfinite, epoch FROM metrics WHERE run_pk = ? AND key_pk = ? AND step > ? ORDER BY step LIMIT ?',
        )
        .raw(true),
      range: this.db
        .prepare(
          'SELECT step, value, nonfinite, epoch FROM metrics WHERE run_pk = ? AND key_pk = ? AND step >= ? AND step <= ? ORDER BY step',
        )
        .raw(true),
      // One row per key: steps, values and epochs concatenated by SQLite, about twice as fast as
      // one row per point when a whole 20,000-step series is read (see report/queries.ts).
      concat: this.db
        .prepare(
          `SELECT group_concat(step, ','),
                  group_concat(${VALUE_AS_TEXT_SQL}, ','),
                  group_concat(IFNULL(epoch, ''), ',')
           FROM metrics WHERE run_pk = ? AND key_pk = ?`,
        )
        .raw(true),
      maxStep: this.db.prepare('SELECT MAX(step) FROM metrics WHERE run_pk = ? AND key_pk = ?').pluck(),
      firstStep: this.db.prepare('SELECT MIN(step) FROM metrics WHERE run_pk = ? AND key_pk = ?').pluck(),
      last: this.db
        .prepare(
          'SELECT step, value, nonfinite, epoch FROM metrics WHERE run_pk = ? AND key_pk = ? ORDER BY step DESC LIMIT 1',
        )
        .raw(true),
      // SQLite's bare-column rule: with one MIN() or MAX(), the other columns come from the row
      // holding it. One range query per bucket: GROUP BY step / width would sort the rows in a
      // temporary b-tree, measured 9x slower than these primary-key range scans.
      bucketMin: this.db
        .prepare(
          'SELECT step, MIN(value), epoch FROM metrics WHERE run_pk = ? AND key_pk = ? AND step BETWEEN ? AND ? AND value IS NOT NULL',
        )
        .raw(true),
      bucketMax: this.db
        .prepare(
          'SELECT step, MAX(value), epoch FROM metrics WHERE run_pk = ? AND key_pk = ? AND step BETWEEN ? AND ? AND value IS NOT NULL',
        )
        .raw(true),
      concat2: this.db
        .prepare(
          `SELECT group_concat(step, ','),
                  group_concat(${VALUE_AS_TEXT_SQL}, ',')
           FROM metrics WHERE run_pk = ? AND key_pk = ?`,
        )
        .raw(true),
      transitions: this.db.prepare(
        'SELECT at, from_status, to_status, attempt, detail FROM run_transitions WHERE run_pk = ? ORDER BY rowid',
      ),
      events: this.db.prepare('SELECT kind, step, payload_json FROM events WHERE run_pk = ? ORDER BY file_offset'),
    };
    this.refreshKeys();
  }

  /** Changes whenever another connection commits: the poller's "anything new?" probe. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  refreshKeys(): void {
    for (const row of this.s.keys!.all() as { pk: number; key: string }[]) this.keyPks.set(row.key, row.pk);
  }

  sweeps(): LiveSweepRow[] {
    const counts = this.s.counts!.all() as { sweep_pk: number; status: RunStatus; n: number }[];
    return (
      this.s.sweeps!.all() as {
        pk: number;
        name: string;
        runs_dir: string;
        spec_json: string;
        created_at: number;
        updated_at: number;
      }[]
    ).map((row) => {
      const mine = counts.filter((c) => c.sweep_pk === row.pk);
      return {
        pk: row.pk,
        name: row.name,
        runsDir: row.runs_dir,
        spec: JSON.parse(row.spec_json) as unknown,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        counts: Object.fromEntries(mine.map((c) => [c.status, c.n])),
        total: mine.reduce((sum, c) => sum + c.n, 0),
      };
    });
  }

  runs(sweepPk: number): LiveRunRow[] {
    return (this.s.runs!.all(sweepPk) as RunRowRaw[]).map(toLiveRun);
  }

  run(sweepPk: number, runId: string): LiveRunRow | undefined {
    const row = this.s.run!.get(sweepPk, runId) as RunRowRaw | undefined;
    return row ? toLiveRun(row) : undefined;
  }

  stderrTail(runPk: number): string | null {
    return (this.s.stderr!.get(runPk) as string | null | undefined) ?? null;
  }

  /** The keys a run recorded: one index probe per known key. */
  runKeys(runPk: number): string[] {
    const out: string[] = [];
    for (const [key, pk] of this.keyPks) if (this.s.probe!.get(runPk, pk) !== undefined) out.push(key);
    return out.sort();
  }

  /** Up to `limit` points of one series after `afterStep`, in step order. */
  pointsSince(runPk: number, key: string, afterStep: number, limit = 100_000): LivePoints {
    const keyPk = this.keyPks.get(key);
    const out: LivePoints = { steps: [], values: [], epochs: [] };
    if (keyPk === undefined) return out;
    return collectPoints(out, this.s.since!.iterate(runPk, keyPk, afterStep, limit));
  }

  /** Every point of one series with from <= step <= to (a zoomed view). */
  pointsBetween(runPk: number, key: string, from: number, to: number): LivePoints {
    const keyPk = this.keyPks.get(key);
    const out: LivePoints = { steps: [], values: [], epochs: [] };
    if (keyPk === undefined) return out;
    return collectPoints(out, this.s.range!.iterate(runPk, keyPk, from, to));
  }

  /** The whole series of one key, sorted by step. */
  series(runPk: number, key: string): LivePoints {
    const keyPk = this.keyPks.get(key);
    const out: LivePoints = { steps: [], values: [], epochs: [] };
    if (keyPk === undefined) return out;
    const row = this.s.concat!.get(runPk, keyPk) as [string | null, string | null, string | null] | undefined;
    if (!row || row[0] === null || row[1] === null || row[2] === null) return out;
    const steps = row[0].split(',');
    const values = row[1].split(',');
    const epochs = row[2].split(',');
    let sorted = true;
    for (let i = 0; i < steps.length; i++) {
      out.steps.push(+steps[i]!);
      out.values.push(+values[i]!); // 'NaN', 'Infinity', '-Infinity' parse as such
      out.epochs.push(epochs[i] === '' || epochs[i] === undefined ? null : +epochs[i]!);
      if (i > 0 && out.steps[i]! < out.steps[i - 1]!) sorted = false;
    }
    // Rows come in primary-key order; sort only if that ever changes.
    if (!sorted) {
      const order = out.steps.map((_, i) => i).sort((a, b) => out.steps[a]! - out.steps[b]!);
      return {
        steps: order.map((i) => out.steps[i]!),
        values: order.map((i) => out.values[i]!),
        epochs: order.map((i) => out.epochs[i]!),
      };
    }
    return out;
  }

  /**
   * A series for drawing without reading it into JavaScript: the steps are cut into `buckets`
   * ranges and SQLite returns each range's lowest and highest finite point (at most 2 x buckets
   * points, in step order: spikes and dips kept), plus the last row (any value) for the cursor.
   */
  bucketed(
    runPk: number,
    key: string,
    buckets: number,
  ): { drawn: LivePoints; last: { step: number; value: number } | null } {
    const keyPk = this.keyPks.get(key);
    const drawn: LivePoints = { steps: [], values: [], epochs: [] };
    if (keyPk === undefined) return { drawn, last: null };
    const lastRow = this.s.last!.get(runPk, keyPk) as [number, number | null, string | null, number | null] | undefined;
    if (!lastRow) return { drawn, last: null };
    const maxStep = this.s.maxStep!.get(runPk, keyPk) as number;
    const firstStepForWidth = this.s.firstStep!.get(runPk, keyPk) as number;
    const width = Math.max(1, Math.ceil((maxStep - firstStepForWidth + 1) / buckets));
    for (let lo = firstStepForWidth; lo <= maxStep; lo += width) {
      const low = this.s.bucketMin!.get(runPk, keyPk, lo, lo + width - 1) as [
        number | null,
        number | null,
        number | null,
      ];
      if (low[0] === null) continue; // no finite value in this range
      const high = this.s.bucketMax!.get(runPk, keyPk, lo, lo + width - 1) as [number, number, number | null];
      const pair = low[0] <= high[0] ? [low, high] : [high, low];
      for (const [step, value, epoch] of pair as [number, number, number | null][]) {
        if (drawn.steps.length > 0 && drawn.steps[drawn.steps.length - 1] === step) continue; // min and max on one row
        drawn.steps.push(step);
        drawn.values.push(value);
        drawn.epochs.push(epoch);
      }
    }
    return { drawn, last: { step: lastRow[0], value: decodeStored(lastRow[1], lastRow[2]) } };
  }

  /** Steps and values of one whole series (no epochs): what diagnostics need, read fast. */
  seriesValues(runPk: number, key: string): { steps: number[]; values: number[] } {
    const keyPk = this.keyPks.get(key);
    if (keyPk === undefined) return { steps: [], values: [] };
    const row = this.s.concat2!.get(runPk, keyPk) as [string | null, string | null] | undefined;
    if (!row || row[0] === null || row[1] === null) return { steps: [], values: [] };
    const stepText = row[0].split(',');
    const valueText = row[1].split(',');
    const steps = new Array<number>(stepText.length);
    const values = new Array<number>(stepText.length);
    let sorted = true;
    for (let i = 0; i < stepText.length; i++) {
      steps[i] = +stepText[i]!;
      values[i] = +valueText[i]!;
      if (i > 0 && steps[i]! < steps[i - 1]!) sorted = false;
    }
    if (sorted) return { steps, values };
    const order = steps.map((_, i) => i).sort((a, b) => steps[a]! - steps[b]!);
    return { steps: order.map((i) => steps[i]!), values: order.map((i) => values[i]!) };
  }

  transitions(
    runPk: number,
  ): { at: number; from: string | null; to: string; attempt: number; detail: string | null }[] {
    return (
      this.s.transitions!.all(runPk) as {
        at: number;
        from_status: string | null;
        to_status: string;
        attempt: number;
        detail: string | null;
      }[]
    ).map((r) => ({
      at: r.at,
      from: r.from_status,
      to: r.to_status,
      attempt: r.attempt,
      detail: r.detail,
    }));
  }

  events(runPk: number): { kind: string; step: number | null; payload: Record<string, unknown> }[] {
    return (this.s.events!.all(runPk) as { kind: string; step: number | null; payload_json: string }[]).map((r) => ({
      kind: r.kind,
      step: r.step,
      payload: JSON.parse(r.payload_json) as Record<string, unknown>,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Appends (step, value, value as text, epoch) rows to `out`, non-finite values decoded. */
function collectPoints(out: LivePoints, rows: IterableIterator<unknown>): LivePoints {
  for (const row of rows as IterableIterator<[number, number | null, string | null, number | null]>) {
    out.steps.push(row[0]);
    out.values.push(decodeStored(row[1], row[2]));
    out.epochs.push(row[3]);
  }
  return out;
}

function toLiveRun(row: RunRowRaw): LiveRunRow {
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
    runDir: row.run_dir,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    failureKind: row.failure_kind,
    reason: row.reason,
    totalSteps: row.total_steps,
    lastStep: row.last_step,
    metricLines: row.metric_lines,
    pruneRung: row.prune_rung,
    summary: row.summary_json === null ? null : (JSON.parse(row.summary_json) as unknown),
  };
}
