// One root error with a stable code; the CLI maps codes to exit codes in one place
// (src/cli/exit-codes.ts). A failed *run* is not an error: executors resolve with an outcome.
// Every failure a user can cause is a subclass of ClipsweepError whose message is one line saying
// what is wrong with which file and what to do; the original error is kept as `cause`.

export type ErrorCode =
  /** Bad input (exit 2): the user can fix it and nothing ran. */
  | 'SPEC_INVALID'
  | 'SPEC_UNREADABLE'
  | 'PLAN_TOO_LARGE'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'BAD_INPUT'
  | DatasetErrorCode
  | ClipTokenizerErrorCode
  | 'NOT_A_DATABASE'
  /** clipsweep could not work (exit 3). */
  | 'STORE'
  | 'EXECUTOR'
  | 'DISK_FULL';

/** Why the built-in trainer's data set cannot be used (src/trainer/data/). */
export type DatasetErrorCode =
  'DATASET_NOT_FOUND' | 'DATASET_LAYOUT' | 'DATASET_ANNOTATIONS' | 'DATASET_EMPTY' | 'DATASET_REQUEST';
/** Why CLIP's tokenizer files cannot be used (src/clip/tokenizer/). */
export type ClipTokenizerErrorCode = 'TOKENIZER_NOT_FOUND' | 'TOKENIZER_FORMAT' | 'TOKENIZER_ARGUMENT';

export class ClipsweepError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClipsweepError';
    this.code = code;
  }
}

/** Bad input: every problem found, each with the file and its key path. Nothing ran. */
export class SpecError extends ClipsweepError {
  readonly file: string;
  readonly problems: readonly string[];
  constructor(
    file: string,
    problems: readonly string[],
    code: ErrorCode = 'SPEC_INVALID',
    options?: { cause?: unknown },
  ) {
    super(
      code,
      problems.length === 1
        ? `${file}: ${problems[0]}`
        : `${file}: ${problems.length} problems\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.name = 'SpecError';
    this.file = file;
    this.problems = problems;
  }
}

/** Arguments that cannot work together or are out of range. */
export class UsageError extends ClipsweepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
    this.name = 'UsageError';
  }
}

export class NotFoundError extends ClipsweepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

/**
 * A file the user gave that clipsweep cannot use (an unreadable image, weights that are not
 * safetensors, a data set without its annotations). The roots of trainer/ and clip/ errors.
 */
export class BadInputError extends ClipsweepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_INPUT', message, options);
    this.name = 'BadInputError';
  }
}

/** A write failed because its filesystem is full (SQLITE_FULL, ENOSPC, EDQUOT). */
export class DiskFullError extends ClipsweepError {
  /** The file (or folder) that could not be written. */
  readonly where: string;
  constructor(where: string, what: string, options?: { cause?: unknown }) {
    super('DISK_FULL', `the disk is full: could not write ${where}; ${what}`, options);
    this.name = 'DiskFullError';
    this.where = where;
  }
}

/** Whether `error` says that a filesystem is full (SQLite's SQLITE_FULL, or the system's ENOSPC/EDQUOT). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/** The file a system error names (fs errors carry `path`), if any. */
export function pathOf(error: unknown): string | null {
  const path = (error as { path?: unknown } | null)?.path;
  return typeof path === 'string' ? path : null;
}

/** A database file clipsweep cannot use; the message names the file and what to do. */
export class DatabaseError extends ClipsweepError {
  readonly file: string;
  constructor(code: ErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${message}`, options);
    this.name = 'DatabaseError';
    this.file = file;
  }
}

/** Bad input: the file is not a SQLite database, or holds someone else's tables. Nothing was written. */
export class NotClipsweepDatabaseError extends DatabaseError {
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('NOT_A_DATABASE', file, message, options);
    this.name = 'NotClipsweepDatabaseError';
  }
}

/** clipsweep cannot work with its own database: unwritable, damaged, or from another schema version. */
export class DatabaseUnusableError extends DatabaseError {
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('STORE', file, message, options);
    this.name = 'DatabaseUnusableError';
  }
}
