// How a child ended, from its exit and the tail of its stderr. Pure, so every case is testable.
import type { RunOutcome } from './types.js';

/** Messages that CUDA, PyTorch, TF.js, Node and the C++ runtime print when memory runs out. */
const OOM_PATTERNS = [
  /CUDA out of memory/i,
  /OutOfMemoryError/,
  /CUBLAS_STATUS_ALLOC_FAILED/,
  /CUDA_ERROR_OUT_OF_MEMORY/,
  /\bOOM when allocating\b/,
  /Resource exhausted: OOM/i,
  /JavaScript heap out of memory/,
  /std::bad_alloc/,
  /\bMemoryError\b/,
  /Cannot allocate memory/,
];

export interface ChildExit {
  exitCode: number | null;
  signal: string | null;
  /** The spawn itself failed (ENOENT, EACCES, ...): its message. */
  spawnError: string | null;
  stderrTail: string;
  durationMs: number;
  /** Why the orchestrator stopped the child itself, if it did. */
  stoppedFor: 'timeout' | 'interrupt' | null;
  /** The orchestrator had to escalate to SIGKILL. */
  forceKilled: boolean;
  timeoutMs?: number;
}

export function classifyExit(exit: ChildExit): RunOutcome {
  const { exitCode, signal, stderrTail, durationMs } = exit;
  const base = { exitCode, signal, stderrTail, durationMs };
  if (exit.spawnError !== null) {
    return { status: 'failed', kind: 'spawn', ...base, reason: `could not start the trainer: ${exit.spawnError}` };
  }
  if (exit.stoppedFor === 'interrupt') {
    const how = exit.forceKilled ? 'killed (SIGKILL after the grace period)' : 'stopped with SIGTERM';
    return { status: 'interrupted', ...base, reason: `interrupted: ${how}` };
  }
  if (exit.stoppedFor === 'timeout') {
    const limit = exit.timeoutMs === undefined ? '' : ` of ${formatMs(exit.timeoutMs)}`;
    return {
      status: 'failed',
      kind: 'timeout',
      ...base,
      reason: `exceeded the timeout${limit}${exit.forceKilled ? ' (SIGKILL after the grace period)' : ''}`,
    };
  }
  if (exitCode === 0 && signal === null) return { status: 'completed', durationMs };
  const oomLine = OOM_PATTERNS.map((p) => stderrTail.split('\n').find((line) => p.test(line))).find(
    (l) => l !== undefined,
  );
  if (oomLine !== undefined) {
    return { status: 'failed', kind: 'oom', ...base, reason: `out of memory: ${oomLine.trim().slice(0, 300)}` };
  }
  // SIGKILL that the orchestrator did not send is, on Linux, almost always the kernel's OOM killer;
  // 137 is how a wrapper shell reports the same.
  if (signal === 'SIGKILL' || exitCode === 137) {
    return {
      status: 'failed',
      kind: 'oom',
      ...base,
      reason: 'killed by SIGKILL that clipsweep did not send (most likely the kernel OOM killer)',
    };
  }
  if (signal !== null) return { status: 'failed', kind: 'signal', ...base, reason: `died by signal ${signal}` };
  return { status: 'failed', kind: 'exit', ...base, reason: `exited with code ${exitCode ?? 'unknown'}` };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 120) return `${+s.toFixed(1)}s`;
  if (s < 7200) return `${+(s / 60).toFixed(1)}m`;
  return `${+(s / 3600).toFixed(1)}h`;
}
