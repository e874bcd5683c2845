// The SLURM client commands, each called with an argv array (never a shell string), and counted:
// the controller is shared, so the number of calls is part of this executor's contract.
import { execa } from 'execa';
import { ClipsweepError } from '../../errors.js';
import { parseSacct, parseSqueue, type JobInfo } from './states.js';

export interface SlurmBinaries {
  sbatch: string;
  squeue: string;
  sacct: string;
  scancel: string;
}

export type SlurmCallCounts = Record<keyof SlurmBinaries, number>;

/** Ids per squeue/sacct call, well under any argv limit. */
const CHUNK = 500;
const SQUEUE_FORMAT = 'JobID:|,State:|,Reason:|,exit_code:';

export class SlurmCli {
  readonly calls: SlurmCallCounts = { sbatch: 0, squeue: 0, sacct: 0, scancel: 0 };
  private readonly bins: SlurmBinaries;
  /** Whether `sacct` reads an accounting database here; without one, `sacct -c` reads the jobcomp file. */
  private sacctMode: 'db' | 'jobcomp' | null = null;

  constructor(bins: Partial<SlurmBinaries> = {}) {
    this.bins = { sbatch: 'sbatch', squeue: 'squeue', sacct: 'sacct', scancel: 'scancel', ...bins };
  }

  /** `sbatch --parsable ARGS SCRIPT`: the job id. Throws with sbatch's message when refused. */
  async submit(args: readonly string[], script: string): Promise<string> {
    this.calls.sbatch++;
    const result = await execa(this.bins.sbatch, ['--parsable', ...args, script], {
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    });
    const id = String(result.stdout ?? '')
      .trim()
      .split(';')[0]!;
    if (result.failed || !/^\d+$/.test(id)) {
      const why = String(result.stderr ?? '').trim() || result.shortMessage || `exit ${result.exitCode}`;
      throw new ClipsweepError('EXECUTOR', `sbatch refused the job: ${why}`, { cause: result });
    }
    return id;
  }

  /** What the controller knows of these jobs; jobs it forgot are simply absent. */
  async queue(ids: readonly string[]): Promise<JobInfo[]> {
    const found: JobInfo[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      this.calls.squeue++;
      const result = await execa(this.bins.squeue, ['-h', '-t', 'all', '-j', chunk.join(','), '-O', SQUEUE_FORMAT], {
        reject: false,
        stdin: 'ignore',
        timeout: 60_000,
      });
      const stderr = String(result.stderr ?? '');
      // When every id is unknown squeue exits 1 with "Invalid job id"; that is an answer, not a failure.
      if (result.failed && !/Invalid job id/i.test(stderr)) {
        throw new ClipsweepError('EXECUTOR', `squeue failed: ${stderr.trim() || result.shortMessage}`, {
          cause: result,
        });
      }
      found.push(...parseSqueue(String(result.stdout ?? '')));
    }
    return found;
  }

  /** Finished jobs the controller no longer holds, from accounting (database, else the jobcomp file). */
  async accounting(ids: readonly string[]): Promise<JobInfo[]> {
    const found: JobInfo[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK).join(',');
      const modes: ('db' | 'jobcomp')[] = this.sacctMode ? [this.sacctMode] : ['db', 'jobcomp'];
      for (const mode of modes) {
        this.calls.sacct++;
        const args = [...(mode === 'jobcomp' ? ['-c'] : []), '-j', chunk, '-n', '-P', '-o', 'JobID,State,ExitCode'];
        const result = await execa(this.bins.sacct, args, { reject: false, stdin: 'ignore', timeout: 60_000 });
        if (result.failed) continue;
        this.sacctMode = mode;
        found.push(...parseSacct(String(result.stdout ?? '')));
        break;
      }
    }
    return found;
  }

  async cancel(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      this.calls.scancel++;
      await execa(this.bins.scancel, ids.slice(i, i + CHUNK), { reject: false, stdin: 'ignore', timeout: 60_000 });
    }
  }
}
