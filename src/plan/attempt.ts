// What happens after one attempt of a run: recorded as final, retried on the same kind of slot,
// moved to a GPU with more memory, or given up. Pure: the queue applies the decision (store
// writes, events); this file writes nothing.
import type { RunOutcome } from '../executor/types.js';
import type { FailureKind, RunEnd } from '../store/types.js';

export interface AttemptSlot {
  id: string;
  gpu: number | null;
  gpuMemoryMiB?: number | undefined;
}

export interface AttemptInput {
  outcome: RunOutcome;
  /** The early-termination decision for this run, if one was taken while it ran. */
  prune: { reason: string; rung: number } | null;
  /** The whole sweep is being stopped (Ctrl-C): nothing is retried. */
  aborted: boolean;
  slot: AttemptSlot;
  /** Which attempt of the run this was (the store's counter, for messages). */
  attemptNo: number;
  /** Attempts made by this invocation (a new invocation gives a fresh retry budget). */
  attemptsHere: number;
  /** Retries allowed after a failure (the spec's `retries`). */
  retries: number;
  /** GPUs the run already ran out of memory on, before this attempt. */
  excludedGpus: readonly number[];
  /** Every slot of the sweep: where a bigger GPU could be found. */
  slots: readonly AttemptSlot[];
  /**
   * pack: memory placed the run beside other processes on its GPU: an out-of-memory there says
   * the prediction was short, not that the GPU is too small (default false).
   */
  sharedGpu?: boolean;
}

export type FinalState = Omit<RunEnd, 'status'> & {
  status: RunEnd['status'];
  failureKind: FailureKind | null;
  reason: string | null;
};

export interface AttemptDecision {
  /** What the store records when the run is not retried (or its requeue loses a race). */
  final: FinalState;
  /** Retry where, with the transition's detail; null: the run ends with `final`. */
  retry: { where: 'here' | 'bigger-gpu'; detail: string } | null;
  /** A GPU to add to the run's excluded list (it ran out of memory there). */
  excludeGpu: number | null;
}

export function decideAttempt(input: AttemptInput): AttemptDecision {
  const { outcome, slot, attemptNo } = input;
  if (outcome.status === 'completed') {
    return {
      final: { status: 'completed', exitCode: 0, failureKind: null, reason: null },
      retry: null,
      excludeGpu: null,
    };
  }
  const fields = { exitCode: outcome.exitCode, signal: outcome.signal, stderrTail: outcome.stderrTail };
  if (input.prune !== null && !input.aborted) {
    // Stopped on purpose: not a failure, never re-run on resume; the decision and rung are kept.
    return {
      final: {
        status: 'pruned',
        ...fields,
        failureKind: null,
        reason: `pruned: ${input.prune.reason}`,
        pruneRung: input.prune.rung,
      },
      retry: null,
      excludeGpu: null,
    };
  }
  if (outcome.status === 'interrupted') {
    return {
      final: { status: 'interrupted', ...fields, failureKind: 'interrupted', reason: outcome.reason },
      retry: null,
      excludeGpu: null,
    };
  }
  if (outcome.kind === 'oom' && input.sharedGpu === true && !input.aborted) {
    // The predictor has learnt from it (it needs more than it had); the GPU stays a candidate.
    return {
      final: { status: 'infeasible', ...fields, failureKind: 'oom', reason: `${outcome.reason} (on ${slot.id})` },
      retry: {
        where: 'here',
        detail: `attempt ${attemptNo} ${outcome.reason} on ${slot.id} beside other processes; placing it again with more room`,
      },
      excludeGpu: null,
    };
  }
  if (outcome.kind === 'oom') {
    // Out of memory is a property of the configuration on that hardware: no blind retry, only a
    // GPU with more memory than this one, which it has not run out of memory on.
    const excluded =
      slot.gpu === null || input.excludedGpus.includes(slot.gpu)
        ? [...input.excludedGpus]
        : [...input.excludedGpus, slot.gpu];
    const here = slot.gpuMemoryMiB ?? 0;
    const bigger = input.slots.some((s) => s.gpu !== null && !excluded.includes(s.gpu) && (s.gpuMemoryMiB ?? 0) > here);
    return {
      final: { status: 'infeasible', ...fields, failureKind: 'oom', reason: `${outcome.reason} (on ${slot.id})` },
      retry:
        bigger && !input.aborted
          ? {
              where: 'bigger-gpu',
              detail: `attempt ${attemptNo} ${outcome.reason} on ${slot.id}; trying a GPU with more memory`,
            }
          : null,
      excludeGpu: slot.gpu,
    };
  }
  const retriesLeft = input.attemptsHere <= input.retries;
  return {
    final: { status: 'failed', ...fields, failureKind: outcome.kind, reason: outcome.reason },
    retry:
      retriesLeft && !input.aborted
        ? { where: 'here', detail: `attempt ${attemptNo} failed: ${outcome.reason}` }
        : null,
    excludeGpu: null,
  };
}
