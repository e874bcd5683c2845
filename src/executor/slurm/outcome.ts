// How a SLURM job's end becomes a run outcome, the same shapes the local executor resolves with.
// Pure: every state is testable without a cluster.
import { classifyExit } from '../classify.js';
import type { RunOutcome } from '../types.js';
import type { JobInfo } from './states.js';

export interface EndContext {
  /** This executor ran scancel for the job: on abort, or because its own timeout passed. */
  cancelledFor: 'interrupt' | 'timeout' | null;
  stderrTail: string;
  durationMs: number;
  timeLimit?: string | undefined;
}

/** The outcome of a job in a terminal state; 'requeue' for a preempted job (submitted again). */
export function outcomeOf(info: JobInfo, ctx: EndContext): RunOutcome | 'requeue' {
  const base = { exitCode: info.exitCode, signal: info.signal, stderrTail: ctx.stderrTail, durationMs: ctx.durationMs };
  const tag = `SLURM job ${info.jobId} ${info.state}`;
  switch (info.state) {
    case 'COMPLETED':
      if ((info.exitCode ?? 0) === 0) return { status: 'completed', durationMs: ctx.durationMs };
      break;
    case 'CANCELLED':
      if (ctx.cancelledFor === 'interrupt')
        return { status: 'interrupted', ...base, reason: `interrupted: ${tag} (scancel)` };
      if (ctx.cancelledFor === 'timeout')
        return { status: 'failed', kind: 'timeout', ...base, reason: `exceeded the sweep's timeout: ${tag} (scancel)` };
      // Cancelled by someone else (scancel by hand, an administrator): a failure, not a request of ours.
      return { status: 'failed', kind: 'signal', ...base, reason: `${tag}: cancelled outside this sweep process` };
    case 'TIMEOUT':
    case 'DEADLINE':
      return {
        status: 'failed',
        kind: 'timeout',
        ...base,
        reason: `${tag}: exceeded the SLURM time limit${ctx.timeLimit ? ` (${ctx.timeLimit})` : ''}`,
      };
    case 'OUT_OF_MEMORY':
      return { status: 'failed', kind: 'oom', ...base, reason: `out of memory: ${tag} (raise resources.mem)` };
    case 'NODE_FAIL':
    case 'BOOT_FAIL':
      return { status: 'failed', kind: 'signal', ...base, reason: `${tag}: the node failed` };
    case 'PREEMPTED':
      return 'requeue';
  }
  const classified = classifyExit({ ...base, spawnError: null, stoppedFor: null, forceKilled: false });
  if (classified.status === 'completed') {
    // A job SLURM calls failed with a clean exit (a rejected batch script, a prolog failure).
    return { status: 'failed', kind: 'exit', ...base, reason: tag };
  }
  return classified.status === 'failed' ? { ...classified, reason: `${classified.reason} (${tag})` } : classified;
}
