// Versioned schema. Each migration runs once, in order, inside a transaction; the version lives
// in SQLite's user_version so that a database written by a newer clipsweep is refused, not broken.
import type Database from 'better-sqlite3';
import { ClipsweepError } from '../errors.js';

/** SQL, or a function for what SQL alone cannot do (SQLite cannot alter a CHECK constraint). */
export const MIGRATIONS: readonly (string | ((db: Database.Database) => void))[] = [
  `
  CREATE TABLE sweeps (
    pk INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec_path TEXT,
    spec_json TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    runs_dir TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
  );
  CREATE TABLE runs (
    pk INTEGER PRIMARY KEY,
    sweep_pk INTEGER NOT NULL REFERENCES sweeps(pk),
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    params_json TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','completed','failed','interrupted','infeasible')),
    attempt INTEGER NOT NULL DEFAULT 0,
    slot TEXT,
    gpu INTEGER,
    owner TEXT,
    pid INTEGER,
    run_dir TEXT NOT NULL,
    queued_at REAL,
    started_at REAL,
    ended_at REAL,
    exit_code INTEGER,
    signal TEXT,
    failure_kind TEXT,
    reason TEXT,
    stderr_tail TEXT,
    excluded_gpus TEXT NOT NULL DEFAULT '[]',
    total_steps INTEGER,
    last_step INTEGER,
    metrics_offset INTEGER NOT NULL DEFAULT 0,
    metric_lines INTEGER NOT NULL DEFAULT 0,
    bad_lines INTEGER NOT NULL DEFAULT 0,
    summary_json TEXT,
    UNIQUE (sweep_pk, run_id)
  );
  CREATE INDEX runs_by_status ON runs (sweep_pk, status);
  CREATE TABLE run_transitions (
    run_pk INTEGER NOT NULL REFERENCES runs(pk),
    at REAL NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    detail TEXT
  );
  CREATE INDEX transitions_by_run ON run_transitions (run_pk);
  CREATE TABLE metric_keys (
    pk INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE
  );
  -- NaN cannot be stored in SQLite (it becomes NULL), so non-finite values are also named in
  -- 'nonfinite'; value is NULL for NaN and +-Inf for infinities.
  CREATE TABLE metrics (
    run_pk INTEGER NOT NULL,
    key_pk INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    nonfinite TEXT,
    epoch REAL,
    time REAL,
    attempt INTEGER NOT NULL,
    PRIMARY KEY (run_pk, key_pk, step)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    run_pk INTEGER NOT NULL,
    file_offset INTEGER NOT NULL,
    kind TEXT NOT NULL,
    step INTEGER,
    payload_json TEXT NOT NULL,
    time REAL,
    PRIMARY KEY (run_pk, file_offset)
  ) WITHOUT ROWID;
  CREATE TABLE orchestrators (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    ended_at REAL
  );
  `,
  // 2: the batch scheduler's job id of a run's current (or last) attempt, so that a restarted
  // orchestrator re-attaches to the job instead of submitting it again.
  `
  ALTER TABLE runs ADD COLUMN job_id TEXT;
  `,
  // 3: the `pruned` state (early termination) and the rung a run was stopped at. The status CHECK
  // is widened by rebuilding the table, as SQLite's documentation prescribes for schema changes
  // ALTER TABLE cannot make (foreign keys are off during migrations, see migrate()).
  (db) => {
    const { sql } = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get() as {
      sql: string;
    };
    const widened = sql
      .replace(/^CREATE TABLE runs\b/, 'CREATE TABLE runs_new')
      .replace("'interrupted','infeasible')", "'interrupted','infeasible','pruned')");
    if (!widened.includes("'pruned'"))
      throw new ClipsweepError('STORE', 'migration 3: unexpected runs table definition');
    db.exec(widened);
    db.exec('INSERT INTO runs_new SELECT * FROM runs');
    db.exec('DROP TABLE runs');
    db.exec('ALTER TABLE runs_new RENAME TO runs');
    db.exec('CREATE INDEX runs_by_status ON runs (sweep_pk, status)');
    db.exec('ALTER TABLE runs ADD COLUMN prune_rung INTEGER');
  },
  // 4: where a run came from: grid, config, or, for a TPE search, random (start-up) or tpe. Runs
  // registered before this migration keep NULL (they came from the sweep file).
  `
  ALTER TABLE runs ADD COLUMN origin TEXT;
  `,
  // 5: GPU use (docs/gpu.md): each run's measured peak GPU memory and mean utilisation, the least
  // memory an out-of-memory attempt proved it needs, and per-GPU samples at a low rate.
  `
  ALTER TABLE runs ADD COLUMN gpu_peak_mib REAL;
  ALTER TABLE runs ADD COLUMN gpu_util_mean REAL;
  ALTER TABLE runs ADD COLUMN gpu_need_min_mib REAL;
  CREATE TABLE gpu_samples (
    sweep_pk INTEGER NOT NULL REFERENCES sweeps(pk),
    gpu INTEGER NOT NULL,
    at REAL NOT NULL,
    total_mib REAL NOT NULL,
    used_mib REAL NOT NULL,
    sweep_mib REAL NOT NULL,
    util REAL,
    PRIMARY KEY (sweep_pk, gpu, at)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * SQLite's application id in the file header ('CLSW'): marks a file as clipsweep's, so that a
 * user's own database is never mistaken for one (files from before it are recognised by their
 * tables, see open.ts, and stamped when the writer next opens them).
 */
export const APPLICATION_ID = 0x434c5357;

/** The tables every schema version has; one missing means the file was damaged. */
export const TABLES: readonly string[] = [
  'events',
  'metric_keys',
  'metrics',
  'orchestrators',
  'run_transitions',
  'runs',
  'sweeps',
];

export function migrate(db: Database.Database, file: string): void {
  // The version is read inside the write transaction: two processes opening a new database at
  // once must not both run the same migration.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new ClipsweepError(
        'STORE',
        `${file}: the database has schema version ${current}, newer than this clipsweep understands (${SCHEMA_VERSION}); upgrade clipsweep`,
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      const migration = MIGRATIONS[version]!;
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      db.pragma(`user_version = ${version + 1}`);
    }
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID)
      db.pragma(`application_id = ${APPLICATION_ID}`);
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0)
      throw new ClipsweepError(
        'STORE',
        `${file}: the migration left ${broken.length} dangling reference(s); nothing was changed`,
      );
  }).immediate();
}
