// Live progress: observers of SweepEvents, never part of the sweep. A TTY gets bars (one per
// active run and an overall one), anything else a plain line per event, --json one JSON object
// per event, --quiet only warnings.
import type { SweepEvent } from '../orchestrator/events.js';
import { JsonProgress, PlainProgress, QuietProgress } from './lines.js';
import { TtyProgress } from './tty.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface Progress {
  onEvent(event: SweepEvent): void;
  stop(): void;
}

export function createProgress(mode: ProgressMode, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Progress {
  switch (mode) {
    case 'tty':
      return new TtyProgress(out);
    case 'plain':
      return new PlainProgress(out);
    case 'json':
      return new JsonProgress(out);
    case 'quiet':
      return new QuietProgress(err);
  }
}

export function chooseMode(options: { json?: boolean; quiet?: boolean }, out: NodeJS.WriteStream): ProgressMode {
  if (options.json) return 'json';
  if (options.quiet) return 'quiet';
  return out.isTTY ? 'tty' : 'plain';
}
