// Runs each job as a SLURM batch job: a generated job script (strictly quoted), submitted with
// `sbatch --parsable`, followed by one shared poller, and resolved with the same outcomes as the
// local executor. Run folders must be on a filesystem the nodes share (docs/slurm.md).
import { getMaxListeners, setMaxListeners } from 'node:events';
import { closeSync, fstatSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Slot } from '../../resources/gpus.js';
import type { Executor, Job, OrphanedRun, RunHooks, RunOutcome } from '../types.js';
import { SlurmCli } from './cli.js';
import { sbatchArgs, type SlurmOptions } from './config.js';
import { outcomeOf } from './outcome.js';
import { readStderrTail } from '../stderr-tail.js';
import { JobPoller } from './poller.js';
import { renderJobScript } from './script.js';
import { isTerminal, type JobInfo } from './states.js';

interface Tracked {
  jobId: string;
  runId: string;
  stderrFile: string;
  stderrStart: number;
  started: number;
  timeoutMs?: number | undefined;
  /** Submits the job again (after preemption); absent for an attached job we did not write. */
  resubmit?: () => Promise<string>;
}

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly cli: SlurmCli;
  private readonly options: SlurmOptions;
  private readonly poller: JobPoller;

  constructor(options: SlurmOptions) {
    this.options = options;
    this.cli = new SlurmCli(options.binaries);
    this.poller = new JobPoller(this.cli, options.pollMs);
  }

  /** max_parallel virtual slots: the cluster's scheduler places the jobs and their GPUs. */
  async slots(): Promise<Slot[]> {
    return Array.from({ length: this.options.maxParallel }, (_, i) => ({ id: `slurm${i}`, gpu: null }));
  }

  async run(job: Job, _slot: Slot, hooks: RunHooks): Promise<RunOutcome> {
    const started = Date.now();
    const attempt = job.env.SWEEP_ATTEMPT ?? '1';
    mkdirSync(job.runDir, { recursive: true });
    const stderrStart = touchSize(job.stderrFile);
    touchSize(job.stdoutFile);
    const failSpawn = (why: string): RunOutcome => ({
      status: 'failed',
      kind: 'spawn',
      exitCode: null,
      signal: null,
      reason: `could not submit the job: ${why}`,
      stderrTail: '',
      durationMs: Date.now() - started,
    });
    if (hooks.signal.aborted)
      return {
        status: 'interrupted',
        exitCode: null,
        signal: null,
        reason: 'interrupted before submission',
        stderrTail: '',
        durationMs: 0,
      };
    let script: string;
    try {
      script = join(job.runDir, `job-${attempt}.sh`);
      writeFileSync(
        script,
        renderJobScript({
          runId: job.runId,
          attempt,
          argv: job.argv,
          env: job.env,
          clearCudaDevices: this.options.gpusPerRun === 0,
        }),
        { mode: 0o755 },
      );
    } catch (error) {
      return failSpawn((error as Error).message);
    }
    const args = sbatchArgs(this.options, job);
    const submit = (): Promise<string> => this.cli.submit(args, script);
    let jobId: string;
    try {
      jobId = await submit();
    } catch (error) {
      return failSpawn((error as Error).message);
    }
    hooks.onSubmit?.(jobId);
    return this.track(
      {
        jobId,
        runId: job.runId,
        stderrFile: job.stderrFile,
        stderrStart,
        started,
        timeoutMs: job.timeoutMs,
        resubmit: submit,
      },
      hooks,
    );
  }

  async attach(run: OrphanedRun & { jobId: string }, _slot: Slot, hooks: RunHooks): Promise<RunOutcome | 'unknown'> {
    const known = (await this.cli.queue([run.jobId])).length > 0 || (await this.cli.accounting([run.jobId])).length > 0;
    if (!known) return 'unknown';
    const stderrFile = join(run.runDir, 'stderr.log');
    // Where this attempt's stderr began is not known any more: the tail is the file's last bytes.
    return this.track({ jobId: run.jobId, runId: run.runId, stderrFile, stderrStart: 0, started: Date.now() }, hooks);
  }

  async stopOrphan(run: OrphanedRun): Promise<'stopped' | 'not-running'> {
    if (!run.jobId) return 'not-running';
    const info = (await this.cli.queue([run.jobId]))[0];
    if (info === undefined || isEnded(info)) return 'not-running';
    await this.cli.cancel([run.jobId]);
    return 'stopped';
  }

  /** Cancels jobs by id (for `sweep cancel`). */
  async cancelJobs(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.cli.cancel(ids);
  }

  private async track(t: Tracked, hooks: RunHooks): Promise<RunOutcome> {
    let jobId = t.jobId;
    let cancelledFor: 'interrupt' | 'timeout' | null = null;
    const cancel = (why: 'interrupt' | 'timeout'): void => {
      if (cancelledFor !== null) return;
      cancelledFor = why;
      // The job ends after SLURM's KillWait (SIGTERM, then SIGKILL); the poller then sees it.
      void this.cli.cancel([jobId]).then(() => this.poller.kick());
    };
    const onAbort = (): void => cancel('interrupt');
    const timer =
      t.timeoutMs !== undefined
        ? setTimeout(() => cancel('timeout'), Math.max(0, t.timeoutMs - (Date.now() - t.started)))
        : undefined;
    // One listener per tracked job on the sweep's one signal: up to max_parallel of them is expected.
    if (getMaxListeners(hooks.signal) < this.options.maxParallel + 10)
      setMaxListeners(this.options.maxParallel + 10, hooks.signal);
    if (hooks.signal.aborted) onAbort();
    else hooks.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const info = await this.poller.waitForEnd(jobId);
        const outcome = outcomeOf(info, {
          cancelledFor,
          stderrTail: readStderrTail(t.stderrFile, t.stderrStart),
          durationMs: Date.now() - t.started,
          timeLimit: this.options.time,
        });
        if (outcome !== 'requeue') return outcome;
        if (cancelledFor !== null || t.resubmit === undefined) {
          return {
            status: 'interrupted',
            exitCode: info.exitCode,
            signal: info.signal,
            reason: `SLURM job ${jobId} was preempted`,
            stderrTail: '',
            durationMs: Date.now() - t.started,
          };
        }
        // Preempted: the same attempt goes back in the SLURM queue as a new job.
        jobId = await t.resubmit();
        hooks.onSubmit?.(jobId);
      }
    } finally {
      if (timer) clearTimeout(timer);
      hooks.signal.removeEventListener('abort', onAbort);
    }
  }
}

function isEnded(info: JobInfo): boolean {
  return isTerminal(info.state);
}

/** The file's size, creating it empty when missing (SLURM appends to it). */
function touchSize(file: string): number {
  const fd = openSync(file, 'a');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
