// Exit codes, in one place. 0: every run completed; 1: some run failed (or did not complete);
// 2: bad input, nothing ran; 3: clipsweep itself could not work (database, executor);
// 130: interrupted by SIGINT or SIGTERM.
import { ClipsweepError } from '../errors.js';

export const EXIT = { ok: 0, runsFailed: 1, badInput: 2, internal: 3, interrupted: 130 } as const;

export function exitCodeForError(error: unknown): number {
  if (!(error instanceof ClipsweepError)) return EXIT.internal;
  switch (error.code) {
    case 'SPEC_INVALID':
    case 'SPEC_UNREADABLE':
    case 'PLAN_TOO_LARGE':
    case 'USAGE':
    case 'NOT_FOUND':
    case 'NOT_A_DATABASE':
      return EXIT.badInput;
    case 'STORE':
    case 'EXECUTOR':
      return EXIT.internal;
  }
}
