import { formatMs } from '../executor/classify.js';
import type { SweepEvent } from '../orchestrator/events.js';
import { clock, fmtNumber } from './format.js';

/** Progress lines are rate-limited per run; every other event is printed as it comes. */
const PROGRESS_EVERY_MS = 10_000;

export class PlainProgress {
  private readonly out: NodeJS.WritableStream;
  private readonly lastProgress = new Map<string, number>();

  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }

  onEvent(event: SweepEvent): void {
    const line = describe(event, this.lastProgress);
    if (line !== null) this.out.write(`[${clock()}] ${line}\n`);
  }

  stop(): void {}
}

export class JsonProgress {
  private readonly out: NodeJS.WritableStream;
  private readonly lastProgress = new Map<string, number>();

  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }

  onEvent(event: SweepEvent): void {
    if (event.type === 'run-progress' && !due(this.lastProgress, event.run.id, 1000)) return;
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }

  stop(): void {}
}

export class QuietProgress {
  private readonly err: NodeJS.WritableStream;

  constructor(err: NodeJS.WritableStream) {
    this.err = err;
  }

  onEvent(event: SweepEvent): void {
    if (event.type === 'warning') this.err.write(`warning: ${event.message}\n`);
  }

  stop(): void {}
}

function due(last: Map<string, number>, id: string, everyMs: number): boolean {
  const now = Date.now();
  if (now - (last.get(id) ?? 0) < everyMs) return false;
  last.set(id, now);
  return true;
}

export function describe(event: SweepEvent, lastProgress: Map<string, number>): string | null {
  switch (event.type) {
    case 'plan': {
      const skipped = event.skipped.length > 0 ? `, ${event.skipped.length} skipped` : '';
      return `sweep ${event.sweep}: ${event.toRun} of ${event.total} runs to run${skipped}, on ${event.slots.length} slot(s): ${event.slots.join(' ')}`;
    }
    case 'recovered':
      return `recovered ${event.run.name} (${event.run.id}): ${event.detail}`;
    case 'run-start':
      return `start ${event.run.name} (${event.run.id}) on ${event.slot}, attempt ${event.attempt}`;
    case 'run-progress':
      if (!due(lastProgress, event.run.id, PROGRESS_EVERY_MS)) return null;
      return `      ${event.run.name} step ${event.step ?? '-'}${event.totalSteps !== null ? `/${event.totalSteps}` : ''} train/loss ${fmtNumber(event.trainLoss)}`;
    case 'run-end': {
      const what = event.willRetry ? `${event.status}, will retry` : event.status;
      const why = event.reason ? `: ${event.reason}` : '';
      const tail =
        event.stderrTail && !event.willRetry && event.status === 'failed'
          ? `\n${indent(lastLines(event.stderrTail, 5))}`
          : '';
      return `end   ${event.run.name} (${event.run.id}) ${what} after ${formatMs(event.durationMs)}${why}${tail}`;
    }
    case 'run-prune':
      return `prune ${event.run.name} (${event.run.id}): ${event.reason}`;
    case 'warning':
      return `warning: ${event.message}`;
    case 'sweep-end': {
      const s = event.summary;
      return `sweep ${s.sweep} ${s.interruptedBySignal ? 'interrupted' : 'finished'}: ${s.completed} completed, ${s.failed} failed, ${s.infeasible} infeasible, ${s.pruned} pruned, ${s.interrupted} interrupted, ${s.queued} queued (of ${s.total})`;
    }
  }
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      | ${l}`)
    .join('\n');
}
