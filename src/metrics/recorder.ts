// The one writer of metric data: tails every active run's metrics file and ingests new lines into
// the store in one transaction per poll. Progress observers get what was read, after the commit.
import { appendFileSync } from 'node:fs';
import type { MetricSink } from '../store/interfaces.js';
import type { EventRow, IngestBatch, MetricRow } from '../store/types.js';
import type { Translator } from './adapters/translator.js';
import { parseMetricsLine } from '../protocol/lines.js';
import { FileTail, MAX_LINE_BYTES } from './tail.js';

/** The store's role the recorder writes through (src/store/interfaces.ts). */
export type IngestSink = MetricSink;

export interface WatchedRun {
  runPk: number;
  attempt: number;
  metricsFile: string;
  /** Where malformed lines are logged, with their line numbers. */
  problemsFile: string;
  /** Offset already ingested (from the store), and lines consumed before it. */
  offset: number;
  linesBefore: number;
  /** What the store already knows of the run's length (from an earlier `started` event). */
  totalSteps?: number | null;
  /** For trainers that do not write the protocol: turns their output into metrics-file lines. */
  translator?: Translator | null;
}

export interface RunProgress {
  runPk: number;
  lastStep: number | null;
  totalSteps: number | null;
  latest: Map<string, number>;
  rows: number;
  badLines: number;
}

interface Watch extends WatchedRun {
  tail: FileTail;
  lineNumber: number;
  knownTotal: number | null;
  knownStep: number | null;
}

export class Recorder {
  private readonly sink: IngestSink;
  private readonly watches = new Map<number, Watch>();
  private readonly onProgress: (progress: RunProgress) => void;
  private readonly onError: ((error: unknown) => void) | null;
  private timer: NodeJS.Timeout | undefined;
  /** The first read or write that failed (a full disk): nothing is read or written after it. */
  private failure: { error: unknown } | null = null;

  /**
   * `onError` hears of the first failure to read a file, log a problem or write the store (from
   * the poll timer too); the recorder then stops, so that nothing is stored past a gap: the store's
   * offsets stay at the last commit and a resume reads on from there. Without it, errors throw.
   */
  constructor(
    sink: IngestSink,
    options: { pollMs?: number; onProgress?: (p: RunProgress) => void; onError?: (error: unknown) => void } = {},
  ) {
    this.sink = sink;
    this.onProgress = options.onProgress ?? (() => undefined);
    this.onError = options.onError ?? null;
    const pollMs = options.pollMs ?? 200;
    if (pollMs > 0) {
      this.timer = setInterval(() => this.poll(), pollMs);
      this.timer.unref();
    }
  }

  watch(run: WatchedRun): void {
    this.watches.set(run.runPk, {
      ...run,
      tail: new FileTail(run.metricsFile, run.offset),
      lineNumber: run.linesBefore,
      knownTotal: run.totalSteps ?? null,
      knownStep: null,
    });
  }

  /**
   * Reads a run's file to its end (its writer has exited), a bounded batch per transaction, and
   * stops watching it. A run is not finished before its whole file is read.
   */
  finish(runPk: number): void {
    const watch = this.watches.get(runPk);
    if (!watch) return;
    // After a failure the run's file was not read to its end: the run must not be settled as if
    // it had been (a completed run without its rows). The caller hears the original error.
    this.rethrowFailure();
    this.guard(() => {
      do this.commit([this.collect(watch, true)], [watch]);
      while (!watch.tail.caughtUp);
    });
    this.rethrowFailure();
    this.watches.delete(runPk);
  }

  /** One read of every watched file, one transaction. */
  poll(): void {
    this.guard(() => this.pollOnce());
  }

  private rethrowFailure(): void {
    if (this.failure !== null) throw this.failure.error;
  }

  /** Whether a read or write failed (see the constructor). */
  get failed(): boolean {
    return this.failure !== null;
  }

  private guard(work: () => void): void {
    if (this.failure !== null) return;
    try {
      work();
    } catch (error) {
      if (this.onError === null) throw error;
      this.failure = { error };
      this.close();
      this.onError(error);
    }
  }

  private pollOnce(): void {
    const batches: IngestBatch[] = [];
    const watches: Watch[] = [];
    for (const watch of this.watches.values()) {
      const batch = this.collect(watch, false);
      if (batch.lines > 0 || batch.badLines > 0) {
        batches.push(batch);
        watches.push(watch);
      }
    }
    this.commit(batches, watches);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private commit(batches: IngestBatch[], watches: Watch[]): void {
    if (batches.length === 0) return;
    this.sink.ingest(batches);
    batches.forEach((batch, i) => {
      const watch = watches[i]!;
      if (batch.totalSteps !== null && batch.totalSteps !== undefined) watch.knownTotal = batch.totalSteps;
      if (batch.lastStep !== null && batch.lastStep !== undefined)
        watch.knownStep = Math.max(watch.knownStep ?? -1, batch.lastStep);
      this.onProgress({ ...progressOf(batch), lastStep: watch.knownStep, totalSteps: watch.knownTotal });
    });
  }

  private collect(watch: Watch, final: boolean): IngestBatch {
    watch.translator?.pump(final);
    const replacedBefore = watch.tail.replaced;
    const lines = watch.tail.read({ final });
    const problems: string[] = [];
    if (watch.tail.replaced !== replacedBefore) {
      // Everything returned comes from the new file: its lines are numbered from its start.
      watch.lineNumber = 0;
      problems.push(`the metrics file was replaced (a new file under its name); read again from its start\n`);
    }
    const metrics: MetricRow[] = [];
    const events: EventRow[] = [];
    let totalSteps: number | null = null;
    let lastStep: number | null = null;
    let summary: unknown;
    let bad = 0;
    const readAt = Date.now() / 1000;
    for (const line of lines) {
      watch.lineNumber++;
      if (line.skippedBytes !== undefined) {
        bad++;
        problems.push(
          `line ${watch.lineNumber} (byte ${line.offset}): too long (${line.skippedBytes} bytes, more than the ${MAX_LINE_BYTES} a line may hold): skipped\n`,
        );
        continue;
      }
      const parsed = parseMetricsLine(line.text);
      if (parsed.type === 'bad') {
        bad++;
        problems.push(`line ${watch.lineNumber} (byte ${line.offset}): ${parsed.reason}: ${line.text.slice(0, 200)}\n`);
        continue;
      }
      if (parsed.type === 'metrics') {
        for (const [key, value] of parsed.values) {
          metrics.push({ key, step: parsed.step, value, epoch: parsed.epoch, time: parsed.time ?? readAt });
        }
        lastStep = Math.max(lastStep ?? -1, parsed.step);
        continue;
      }
      events.push({
        offset: line.offset,
        kind: parsed.kind,
        step: parsed.step,
        payload: parsed.payload,
        time: parsed.time ?? readAt,
      });
      if (parsed.kind === 'started' && Number.isSafeInteger(parsed.payload.total_steps))
        totalSteps = parsed.payload.total_steps as number;
      if (parsed.kind === 'finished') summary = parsed.payload.summary ?? parsed.payload;
    }
    if (problems.length > 0) appendFileSync(watch.problemsFile, problems.join(''));
    return {
      runPk: watch.runPk,
      attempt: watch.attempt,
      metrics,
      events,
      offset: watch.tail.offset,
      lines: lines.length - bad,
      badLines: bad,
      totalSteps,
      lastStep,
      ...(summary !== undefined ? { summary } : {}),
    };
  }
}

function progressOf(batch: IngestBatch): RunProgress {
  const latest = new Map<string, number>();
  let latestStep = -1;
  for (const row of batch.metrics) {
    if (row.step >= latestStep) latestStep = row.step;
    latest.set(row.key, row.value);
  }
  return {
    runPk: batch.runPk,
    lastStep: batch.lastStep ?? null,
    totalSteps: batch.totalSteps ?? null,
    latest,
    rows: batch.metrics.length,
    badLines: batch.badLines,
  };
}
