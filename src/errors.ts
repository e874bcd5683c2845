// One root error with a stable code; the CLI maps codes to exit codes in one place
// (src/cli/exit-codes.ts). A failed *run* is not an error: executors resolve with an outcome.

export type ErrorCode =
  | 'SPEC_INVALID'
  | 'SPEC_UNREADABLE'
  | 'PLAN_TOO_LARGE'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'STORE'
  | 'NOT_A_DATABASE'
  | 'EXECUTOR';

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
  constructor(file: string, problems: readonly string[], code: ErrorCode = 'SPEC_INVALID') {
    super(
      code,
      problems.length === 1
        ? `${file}: ${problems[0]}`
        : `${file}: ${problems.length} problems\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'SpecError';
    this.file = file;
    this.problems = problems;
  }
}

export class UsageError extends ClipsweepError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

export class NotFoundError extends ClipsweepError {
  constructor(message: string) {
    super('NOT_FOUND', message);
    this.name = 'NotFoundError';
  }
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
