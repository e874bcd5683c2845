// Which of a sweep's runs this invocation runs, given what the store says of them. Pure.
import type { RunRecord, RunStatus } from '../store/types.js';

export interface ResumePolicy {
  /** Re-run failed runs (default true: a new invocation gives them a fresh retry budget). */
  retryFailed: boolean;
  /** Re-run runs marked infeasible (out of memory on every slot they could use). */
  retryInfeasible: boolean;
  /** Run everything again from scratch, completed runs included. */
  rerun: boolean;
}

export type Decision =
  | { action: 'run'; run: RunRecord; requeueFrom: RunStatus | null; fresh: boolean }
  | { action: 'skip'; run: RunRecord; why: string };

/** One run's decision: it depends on that run alone, so a plan can be decided a page at a time. */
export function decideRun(
  run: RunRecord,
  policy: ResumePolicy,
  isLiveOwner: (owner: string | null) => boolean,
): Decision {
  if (run.status === 'running') {
    return isLiveOwner(run.owner)
      ? { action: 'skip', run, why: 'running in another sweep process' }
      : { action: 'run', run, requeueFrom: null, fresh: false }; // recovered first, then queued
  }
  if (policy.rerun)
    return { action: 'run', run, requeueFrom: run.status === 'queued' ? null : run.status, fresh: run.attempt > 0 };
  switch (run.status) {
    case 'queued':
      return { action: 'run', run, requeueFrom: null, fresh: false };
    case 'interrupted':
      return { action: 'run', run, requeueFrom: 'interrupted', fresh: false };
    case 'failed':
      return policy.retryFailed
        ? { action: 'run', run, requeueFrom: 'failed', fresh: false }
        : { action: 'skip', run, why: `failed (${run.reason ?? 'unknown reason'}); --retry-failed runs it again` };
    case 'infeasible':
      return policy.retryInfeasible
        ? { action: 'run', run, requeueFrom: 'infeasible', fresh: false }
        : {
            action: 'skip',
            run,
            why: `infeasible (${run.reason ?? 'out of memory'}); --retry-infeasible runs it again`,
          };
    case 'completed':
      return { action: 'skip', run, why: 'completed; --rerun runs it again' };
    case 'pruned':
      // Stopped early on purpose: resuming never resurrects it.
      return { action: 'skip', run, why: `pruned (${run.reason ?? 'early termination'}); --rerun runs it again` };
  }
}
