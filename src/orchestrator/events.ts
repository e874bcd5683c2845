// What the orchestrator tells observers (progress displays, --json). Observers only watch:
// nothing they do flows back into the sweep.
import type { RunStatus } from '../store/types.js';

export interface RunRef {
  id: string;
  name: string;
}

export type SweepEvent =
  | {
      type: 'plan';
      sweep: string;
      total: number;
      toRun: number;
      skipped: { id: string; name: string; why: string }[];
      slots: string[];
    }
  | { type: 'recovered'; run: RunRef; detail: string }
  | { type: 'run-start'; run: RunRef; slot: string; attempt: number }
  | {
      type: 'run-progress';
      run: RunRef;
      step: number | null;
      totalSteps: number | null;
      trainLoss: number | null;
      badLines: number;
    }
  | {
      type: 'run-end';
      run: RunRef;
      status: RunStatus;
      attempt: number;
      reason: string | null;
      willRetry: boolean;
      durationMs: number;
      stderrTail?: string;
    }
  | { type: 'run-prune'; run: RunRef; reason: string; rung: number }
  | { type: 'warning'; message: string }
  | { type: 'sweep-end'; summary: SweepSummaryCounts };

export interface SweepSummaryCounts {
  sweep: string;
  total: number;
  completed: number;
  failed: number;
  interrupted: number;
  infeasible: number;
  pruned: number;
  queued: number;
  running: number;
  skipped: number;
  interruptedBySignal: boolean;
}
