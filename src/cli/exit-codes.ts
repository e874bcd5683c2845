// Exit codes, in one place. 0: every run completed; 1: some run failed (or did not complete);
// 2: bad input, nothing ran; 3: clipsweep itself could not work (database, executor);
// 130: interrupted by SIGINT or SIGTERM. Every command maps errors through describeError.
import { ClipsweepError, DiskFullError, isDiskFull, pathOf, type ErrorCode } from '../errors.js';

export const EXIT = { ok: 0, runsFailed: 1, badInput: 2, internal: 3, interrupted: 130 } as const;

const EXIT_FOR: Record<ErrorCode, number> = {
  SPEC_INVALID: EXIT.badInput,
  SPEC_UNREADABLE: EXIT.badInput,
  PLAN_TOO_LARGE: EXIT.badInput,
  USAGE: EXIT.badInput,
  NOT_FOUND: EXIT.badInput,
  BAD_INPUT: EXIT.badInput,
  DATASET_NOT_FOUND: EXIT.badInput,
  DATASET_LAYOUT: EXIT.badInput,
  DATASET_ANNOTATIONS: EXIT.badInput,
  DATASET_EMPTY: EXIT.badInput,
  DATASET_REQUEST: EXIT.badInput,
  TOKENIZER_NOT_FOUND: EXIT.badInput,
  TOKENIZER_FORMAT: EXIT.badInput,
  TOKENIZER_ARGUMENT: EXIT.badInput,
  NOT_A_DATABASE: EXIT.badInput,
  STORE: EXIT.internal,
  EXECUTOR: EXIT.internal,
  DISK_FULL: EXIT.internal,
};

export function exitCodeForError(error: unknown): number {
  const known = asClipsweepError(error);
  return known === null ? EXIT.internal : EXIT_FOR[known.code];
}

/** What the user is told: one line for a known error, the stack for a defect in clipsweep. */
export function describeError(error: unknown): string {
  const known = asClipsweepError(error);
  if (known !== null) return `sweep: ${known.message}\n`;
  return `sweep: internal error: ${(error as Error)?.stack ?? String(error)}\n`;
}

/** A full disk reached from anywhere (a raw SQLITE_FULL or ENOSPC) is still the user's to fix. */
function asClipsweepError(error: unknown): ClipsweepError | null {
  if (error instanceof ClipsweepError) return error;
  if (isDiskFull(error))
    return new DiskFullError(pathOf(error) ?? 'a file', 'free space there and run the same command again', {
      cause: error,
    });
  return null;
}
