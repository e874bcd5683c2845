// Trainers that do not speak the protocol (OpenCLIP, or anything read with regex patterns) are
// translated: their stdout/stderr logs (and OpenCLIP's results.jsonl) are tailed and turned into
// protocol lines appended to the run's metrics file. The metrics file stays the one input of the
// recorder, so storage, recovery and reports treat every trainer alike.
import { appendFileSync } from 'node:fs';
import { FileTail } from '../tail.js';
import { encodeLine } from '../../protocol/lines.js';

export interface Verdict {
  /** The run must be failed with this reason even if it exited 0 (OpenCLIP's "already exists"). */
  failReason: string | null;
  warnings: string[];
}

export interface Translator {
  /** Reads what is new in the sources and appends protocol lines; `final` after the child exited. */
  pump(final: boolean): void;
  verdict(): Verdict;
}

export interface SourceLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Tails a run's stdout.log and stderr.log from where this attempt began. */
export class LogSources {
  private readonly tails: [SourceLine['stream'], FileTail][];

  constructor(files: { stdout: string; stderr: string }, offsets: { stdout: number; stderr: number }) {
    this.tails = [
      ['stdout', new FileTail(files.stdout, offsets.stdout)],
      ['stderr', new FileTail(files.stderr, offsets.stderr)],
    ];
  }

  read(final: boolean): SourceLine[] {
    // After the child exited, everything is read (a bounded read per poll before that).
    return this.tails.flatMap(([stream, tail]) =>
      (final ? tail.readAll({ final }) : tail.read()).flatMap((l) =>
        l.skippedBytes === undefined ? [{ stream, text: l.text }] : [],
      ),
    );
  }
}

/** Appends protocol objects to the metrics file, one line each. */
export class ProtocolWriter {
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  write(records: object[]): void {
    if (records.length === 0) return;
    appendFileSync(this.file, records.map((r) => `${encodeLine(r)}\n`).join(''));
  }
}
