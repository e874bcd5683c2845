// One poll loop for every job of this orchestrator: each interval, one squeue call for all of
// them (plus one sacct call for those the controller has forgotten), never one call per job.
import type { SlurmCli } from './cli.js';
import { isTerminal, type JobInfo } from './states.js';

/** Polls in a row that neither squeue nor sacct knew a job before it counts as lost. */
const LOST_AFTER_MISSES = 5;

interface Watch {
  resolve: (info: JobInfo) => void;
  misses: number;
}

export class JobPoller {
  private readonly cli: SlurmCli;
  private readonly intervalMs: number;
  private readonly watches = new Map<string, Watch>();
  private readonly latest = new Map<string, JobInfo>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  /** The last error of a poll (the controller unreachable, ...); polling goes on. */
  lastError: Error | null = null;

  constructor(cli: SlurmCli, intervalMs: number) {
    this.cli = cli;
    this.intervalMs = intervalMs;
  }

  /** Resolves with the job's state once it is terminal (or lost: state UNKNOWN). */
  waitForEnd(jobId: string): Promise<JobInfo> {
    return new Promise((resolve) => {
      this.watches.set(jobId, { resolve, misses: 0 });
      this.schedule(this.intervalMs);
    });
  }

  /** The state seen at the last poll (for progress and status). */
  state(jobId: string): JobInfo | undefined {
    return this.latest.get(jobId);
  }

  /** Poll soon (after a scancel), not a full interval later. */
  kick(delayMs = 200): void {
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.polling !== null) return; // the running poll reschedules itself
    if (this.timer !== null) {
      if (delayMs >= this.intervalMs) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.pollOnce().finally(() => {
        this.polling = null;
        if (this.watches.size > 0) this.schedule(this.intervalMs);
      });
    }, delayMs);
  }

  private async pollOnce(): Promise<void> {
    const ids = [...this.watches.keys()];
    if (ids.length === 0) return;
    try {
      const seen = new Map((await this.cli.queue(ids)).map((info) => [info.jobId, info]));
      const forgotten = ids.filter((id) => !seen.has(id));
      if (forgotten.length > 0) {
        for (const info of await this.cli.accounting(forgotten)) seen.set(info.jobId, info);
      }
      this.lastError = null;
      for (const id of ids) {
        const watch = this.watches.get(id)!;
        const info = seen.get(id);
        if (info === undefined) {
          if (++watch.misses >= LOST_AFTER_MISSES) {
            this.end(id, {
              jobId: id,
              state: 'UNKNOWN',
              reason: 'neither squeue nor sacct knows the job',
              exitCode: null,
              signal: null,
            });
          }
          continue;
        }
        watch.misses = 0;
        this.latest.set(id, info);
        if (isTerminal(info.state)) this.end(id, info);
      }
    } catch (error) {
      this.lastError = error as Error; // transient (controller busy or restarting): try again next interval
    }
  }

  private end(id: string, info: JobInfo): void {
    const watch = this.watches.get(id);
    this.watches.delete(id);
    this.latest.delete(id);
    watch?.resolve(info);
  }
}
