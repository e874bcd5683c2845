// GPU use in the store: each run's measured peak memory and mean utilisation, the least memory
// an out-of-memory attempt proved a run needs, and per-GPU samples (docs/gpu.md). SqliteStore
// exposes these through small methods; the SQL lives here.
import type Database from 'better-sqlite3';

export interface GpuSample {
  gpu: number;
  /** Seconds since the epoch, like every time in the store. */
  at: number;
  totalMiB: number;
  usedMiB: number;
  /** Of usedMiB, what the sweep's own runs held. */
  sweepMiB: number;
  /** Percent, or null where nvidia-smi did not say. */
  util: number | null;
}

export interface RunGpuUse {
  peakMiB: number | null;
  utilMean: number | null;
  needMinMiB: number | null;
}

/** A run with something measured, for the memory predictor and the dry-run estimate. */
export interface MeasuredRun {
  sweepPk: number;
  /** The sweep's stored spec (its trainer says which runs are comparable). */
  spec: unknown;
  params: Record<string, unknown>;
  status: string;
  peakMiB: number | null;
  needMinMiB: number | null;
  /** Of the last attempt, in seconds; null when it never ran. */
  startedAt: number | null;
  endedAt: number | null;
  gpu: number | null;
}

/**
 * Readers open older files as they are (never migrated): before the GPU-use migration there is no GPU
 * use to read, and these reads return nothing rather than fail.
 */
function hasGpuUse(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM pragma_table_info('runs') WHERE name = 'gpu_peak_mib'").get() !== undefined;
}

export function recordGpuUse(db: Database.Database, runPk: number, peakMiB: number, utilMean: number | null): void {
  // A resumed run keeps the largest peak any of its attempts reached.
  db.prepare('UPDATE runs SET gpu_peak_mib = max(coalesce(gpu_peak_mib, 0), ?), gpu_util_mean = ? WHERE pk = ?').run(
    peakMiB,
    utilMean,
    runPk,
  );
}

export function recordGpuNeed(db: Database.Database, runPk: number, atLeastMiB: number): void {
  db.prepare('UPDATE runs SET gpu_need_min_mib = max(coalesce(gpu_need_min_mib, 0), ?) WHERE pk = ?').run(
    atLeastMiB,
    runPk,
  );
}

export function addGpuSamples(db: Database.Database, sweepPk: number, samples: readonly GpuSample[]): void {
  const insert = db.prepare(
    'INSERT OR REPLACE INTO gpu_samples (sweep_pk, gpu, at, total_mib, used_mib, sweep_mib, util) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const s of samples) insert.run(sweepPk, s.gpu, s.at, s.totalMiB, s.usedMiB, s.sweepMiB, s.util);
  }).immediate();
}

export function gpuSamples(db: Database.Database, sweepPk: number): GpuSample[] {
  if (!hasGpuUse(db)) return [];
  const rows = db
    .prepare(
      'SELECT gpu, at, total_mib, used_mib, sweep_mib, util FROM gpu_samples WHERE sweep_pk = ? ORDER BY gpu, at',
    )
    .all(sweepPk) as {
    gpu: number;
    at: number;
    total_mib: number;
    used_mib: number;
    sweep_mib: number;
    util: number | null;
  }[];
  return rows.map((r) => ({
    gpu: r.gpu,
    at: r.at,
    totalMiB: r.total_mib,
    usedMiB: r.used_mib,
    sweepMiB: r.sweep_mib,
    util: r.util,
  }));
}

export function runGpuUse(db: Database.Database, sweepPk: number): Map<number, RunGpuUse> {
  if (!hasGpuUse(db)) return new Map();
  const rows = db
    .prepare(
      'SELECT pk, gpu_peak_mib, gpu_util_mean, gpu_need_min_mib FROM runs WHERE sweep_pk = ? AND (gpu_peak_mib IS NOT NULL OR gpu_need_min_mib IS NOT NULL)',
    )
    .all(sweepPk) as {
    pk: number;
    gpu_peak_mib: number | null;
    gpu_util_mean: number | null;
    gpu_need_min_mib: number | null;
  }[];
  return new Map(
    rows.map((r) => [r.pk, { peakMiB: r.gpu_peak_mib, utilMean: r.gpu_util_mean, needMinMiB: r.gpu_need_min_mib }]),
  );
}

/** Runs with a measurement or a finished attempt; of one sweep, or of every sweep. */
export function measuredRuns(db: Database.Database, sweepPk: number | null): MeasuredRun[] {
  const gpu = hasGpuUse(db);
  const rows = db
    .prepare(
      `SELECT r.sweep_pk, s.spec_json, r.params_json, r.status, ${gpu ? 'r.gpu_peak_mib, r.gpu_need_min_mib' : 'NULL AS gpu_peak_mib, NULL AS gpu_need_min_mib'},
         r.started_at, r.ended_at, r.gpu
       FROM runs r JOIN sweeps s ON s.pk = r.sweep_pk
       WHERE (? IS NULL OR r.sweep_pk = ?) AND (${gpu ? 'r.gpu_peak_mib IS NOT NULL OR r.gpu_need_min_mib IS NOT NULL OR ' : ''}r.status = 'completed')`,
    )
    .all(sweepPk, sweepPk) as {
    sweep_pk: number;
    spec_json: string;
    params_json: string;
    status: string;
    gpu_peak_mib: number | null;
    gpu_need_min_mib: number | null;
    started_at: number | null;
    ended_at: number | null;
    gpu: number | null;
  }[];
  return rows.map((r) => ({
    sweepPk: r.sweep_pk,
    spec: JSON.parse(r.spec_json) as unknown,
    params: JSON.parse(r.params_json) as Record<string, unknown>,
    status: r.status,
    peakMiB: r.gpu_peak_mib,
    needMinMiB: r.gpu_need_min_mib,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    gpu: r.gpu,
  }));
}
