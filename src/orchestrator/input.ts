// What a sweep invocation is given: resolved once by the CLI, read by the sweep and its queue.
import type { Executor } from '../executor/types.js';
import type { GpuMonitorOptions } from '../resources/gpu-monitor.js';
import type { ResumePolicy } from '../plan/decide.js';
import type { JobContext } from '../plan/job.js';
import type { SweepSpec } from '../sweep-file/load.js';
import type { SweepPlan } from '../sweep-file/expand.js';
import type { SweepStore } from '../store/interfaces.js';
import type { SweepEvent } from './events.js';

export interface RunSweepInput {
  spec: SweepSpec;
  /** The spec as stored with the sweep (what was asked, before any defaults). */
  specRecord: unknown;
  specHash: string;
  /** The runs, expanded as they are registered: a plan of 10^6 runs is never held whole. */
  plan: SweepPlan;
  /** The orchestrator's runs, the recorder's sink and the pruner's reads: one writer connection. */
  store: SweepStore;
  executor: Executor;
  /** Absolute; runs live in <runsDir>/<sweep>/<run-id>/. */
  runsDir: string;
  policy: ResumePolicy;
  signal: AbortSignal;
  onEvent: (event: SweepEvent) => void;
  /** Resolved once by the CLI: the Node binary, home folder, the sweep file's folder, PYTHONPATH. */
  jobContext: JobContext;
  host: string;
  pid: number;
  pollMs?: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** Tests and the simulator: how GPUs are read (default nvidia-smi) and processes matched. */
  gpuMonitor?: Omit<GpuMonitorOptions, 'onSample' | 'intervalMs'>;
}
