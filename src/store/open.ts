// Opening a database file, for the writer (`sweep run`) and for readers. Both first look at what
// the file holds, without writing: a file that is not clipsweep's is refused, naming it, before
// anything could change it. Readers open read-only and never create, initialise or migrate; the
// writer initialises only an empty file (nothing in it to lose).
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseUnusableError, NotClipsweepDatabaseError, NotFoundError } from '../errors.js';
import { APPLICATION_ID, SCHEMA_VERSION, TABLES } from './migrations.js';

/**
 * The oldest schema version readers read as it is. Every migration so far only added nullable
 * columns and widened a CHECK, so a reader maps what an older file lacks to null. A migration
 * that changes what readers rely on raises this; readers then ask the user to run `sweep run`
 * (the one command that migrates) instead of upgrading a file behind the user's back.
 */
export const READABLE_FROM_VERSION = 1;

export type Contents =
  { kind: 'empty' } | { kind: 'clipsweep'; version: number; missing: string[] } | { kind: 'foreign'; tables: string[] };

/**
 * What the file holds, read without writing, in one read transaction: another `sweep run` may be
 * initialising the same file, and a half-seen initialisation would look like someone else's file.
 * SQLite errors (not a database...) pass through.
 */
export function inspect(db: Database.Database): Contents {
  return db.transaction(() => look(db))();
}

function look(db: Database.Database): Contents {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  // Databases written before the application id was stamped are recognised by their version and
  // the sweeps table's own columns.
  const ours =
    applicationId === APPLICATION_ID ||
    (applicationId === 0 &&
      version >= 1 &&
      hasColumns(db, 'sweeps', ['spec_hash', 'runs_dir']) &&
      hasColumns(db, 'runs', ['run_id', 'params_json']));
  if (ours) return { kind: 'clipsweep', version, missing: TABLES.filter((t) => !tables.includes(t)) };
  const objects = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
  if (applicationId === 0 && version === 0 && objects === 0) return { kind: 'empty' };
  return { kind: 'foreign', tables };
}

function hasColumns(db: Database.Database, table: string, columns: readonly string[]): boolean {
  const present = new Set(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]);
  return columns.every((c) => present.has(c));
}

/** A read-only connection to a clipsweep database at a version readers understand. */
export function openReadConnection(file: string): Database.Database {
  if (!existsSync(file)) throw new NotFoundError(`no database at ${file}: run a sweep first (sweep run), or pass --db`);
  if (statSync(file).size === 0)
    throw new NotFoundError(`${file} is empty: no sweep has run with it yet (sweep run --db ${file} starts one)`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    const contents = inspect(db);
    if (contents.kind === 'clipsweep' && contents.version < READABLE_FROM_VERSION) {
      throw new DatabaseUnusableError(
        file,
        `schema version ${contents.version} is too old to read; run \`sweep run\` with this database once to upgrade it`,
      );
    }
    checkContents(file, contents, 'read');
    return db;
  } catch (error) {
    db?.close();
    throw translate(file, error, 'read');
  }
}

/**
 * The writer's connection: creates the file (and its folder) if missing, refuses a file that is
 * not clipsweep's or that it cannot write, and leaves migrating to the caller.
 */
export function openWriteConnection(file: string): Database.Database {
  assertWritable(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    db.pragma('busy_timeout = 10000');
    checkContents(file, inspect(db), 'write');
    return db;
  } catch (error) {
    db?.close();
    throw translate(file, error, 'write');
  }
}

function checkContents(file: string, contents: Contents, mode: 'read' | 'write'): void {
  if (contents.kind === 'foreign') {
    const tables =
      contents.tables.length === 0
        ? 'no tables'
        : `tables ${contents.tables.slice(0, 5).join(', ')}${contents.tables.length > 5 ? ', ...' : ''}`;
    throw new NotClipsweepDatabaseError(
      file,
      `not a clipsweep database (it holds ${tables}); clipsweep leaves it as it is: pass --db with another file (default runs/sweeps.db)`,
    );
  }
  if (contents.kind === 'empty') {
    // The writer initialises an empty file; a reader has nothing to read.
    if (mode === 'read')
      throw new NotFoundError(`${file} holds no clipsweep data yet: run a sweep first (sweep run --db ${file})`);
    return;
  }
  if (contents.version > SCHEMA_VERSION) {
    throw new DatabaseUnusableError(
      file,
      `the database has schema version ${contents.version}, newer than this clipsweep understands (${SCHEMA_VERSION}); upgrade clipsweep`,
    );
  }
  if (contents.missing.length > 0) {
    throw new DatabaseUnusableError(
      file,
      `the clipsweep database is damaged: table${contents.missing.length > 1 ? 's' : ''} ${contents.missing.join(', ')} missing; restore it from a backup, or move it away and pass --db for a new one`,
    );
  }
}

/** Why the writer cannot write `file`, checked before SQLite would fail half-way. */
function assertWritable(file: string): void {
  const folder = dirname(file);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new DatabaseUnusableError(file, `sweep run cannot create the folder ${folder}: ${why(error)}`, {
      cause: error,
    });
  }
  // SQLite writes the file and, in WAL mode, two files beside it.
  for (const target of existsSync(file) ? [file, folder] : [folder]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      throw new DatabaseUnusableError(
        file,
        `sweep run cannot write the database: ${target === file ? 'the file' : `its folder ${folder}`} ${why(error)}; make it writable or pass --db with a writable place (status, ls, export and report can still read it)`,
        { cause: error },
      );
    }
  }
}

function why(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EROFS':
      return 'is on a read-only file system';
    case 'EPERM':
      return 'is marked immutable (lsattr shows "i"; chattr -i clears it)';
    case 'EACCES':
      return 'is not writable by this user (permission denied)';
    default:
      return `cannot be written (${(error as Error).message})`;
  }
}

/** SQLite's errors at open, as one line naming the file and what to do. */
export function translate(file: string, error: unknown, mode: 'read' | 'write'): unknown {
  if (
    error instanceof NotClipsweepDatabaseError ||
    error instanceof DatabaseUnusableError ||
    error instanceof NotFoundError
  )
    return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const message = (error as Error).message;
  if (code === 'SQLITE_NOTADB') {
    return new NotClipsweepDatabaseError(
      file,
      `not a SQLite database (${message}); pass --db with clipsweep's database (default runs/sweeps.db)`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new DatabaseUnusableError(
      file,
      `the database is damaged (${message}); restore it from a backup, or move it away and pass --db for a new one`,
      { cause: error },
    );
  }
  if (mode === 'read' && code.startsWith('SQLITE_CANTOPEN')) {
    return new DatabaseUnusableError(
      file,
      `cannot open the database to read it (${message}); a database in WAL mode on a read-only file system needs its -shm file beside it: copy the database to a writable folder and pass --db`,
      { cause: error },
    );
  }
  if (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_PERM') ||
    code.startsWith('SQLITE_IOERR')
  ) {
    return new DatabaseUnusableError(
      file,
      `cannot ${mode} the database (${message}); check the file and its folder are ${mode === 'write' ? 'writable' : 'readable'}, or pass --db`,
      { cause: error },
    );
  }
  return new DatabaseUnusableError(file, `cannot ${mode} the database (${message})`, { cause: error });
}
