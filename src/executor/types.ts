// The executor contract (Hydra's launcher is the model: little more than "run this here").
// - run() resolves with an outcome for every way a run can end (a failed run is data) and throws
//   only when the executor cannot work at all.
// - Aborting `signal` stops the run: SIGTERM, then SIGKILL after the job's grace period; the
//   outcome is then `interrupted`. Nothing the run started is left running when run() resolves.
import type { Slot } from '../resources/gpus.js';
import type { FailureKind } from '../store/types.js';

export interface Job {
  runId: string;
  runDir: string;
  argv: readonly string[];
  cwd?: string;
  /** The child's environment on top of the orchestrator's (the executor adds CUDA_VISIBLE_DEVICES). */
  env: Record<string, string>;
  stdoutFile: string;
  stderrFile: string;
  timeoutMs?: number;
  killGraceMs: number;
}

export type RunOutcome =
  | { status: 'completed'; durationMs: number }
  | {
      status: 'failed';
      kind: Exclude<FailureKind, 'interrupted' | 'orphaned'>;
      exitCode: number | null;
      signal: string | null;
      reason: string;
      stderrTail: string;
      durationMs: number;
    }
  | {
      status: 'interrupted';
      exitCode: number | null;
      signal: string | null;
      reason: string;
      stderrTail: string;
      durationMs: number;
    };

export interface RunHooks {
  signal: AbortSignal;
  /** Called once the child exists, with its pid. */
  onStart?: (pid: number) => void;
  /** Batch executors: called with the scheduler's job id once submitted (again if resubmitted). */
  onSubmit?: (jobId: string) => void;
}

/** What is known of a run left behind by an orchestrator that died. */
export interface OrphanedRun {
  runId: string;
  runDir: string;
  pid: number | null;
  /** The batch scheduler's job id, where the run was submitted to one. */
  jobId?: string | null;
}

export interface Executor {
  readonly name: string;
  /** The slots runs can be placed on. */
  slots(): Promise<Slot[]>;
  run(job: Job, slot: Slot, hooks: RunHooks): Promise<RunOutcome>;
  /** Makes sure a run left by a dead orchestrator no longer executes (so it can be run again). */
  stopOrphan(run: OrphanedRun, graceMs: number): Promise<'stopped' | 'not-running'>;
  /**
   * Optional (batch schedulers, whose jobs outlive the orchestrator): follows a run left by a dead
   * orchestrator to its end, as run() would, instead of stopping it. 'unknown' when the scheduler
   * has no record of the job: the caller then treats the run as an orphan.
   */
  attach?(run: OrphanedRun & { jobId: string }, slot: Slot, hooks: RunHooks): Promise<RunOutcome | 'unknown'>;
}
