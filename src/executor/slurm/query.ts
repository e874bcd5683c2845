// Read-only questions to SLURM for the CLI (`sweep status`, `sweep cancel`), one call each.
import { SlurmCli } from './cli.js';

export interface SlurmJobState {
  state: string;
  reason: string | null;
}

/** The controller's state and pending reason of these jobs; null when squeue cannot be asked. */
export async function querySlurmStates(
  jobIds: readonly string[],
  cli = new SlurmCli(),
): Promise<Map<string, SlurmJobState> | null> {
  if (jobIds.length === 0) return new Map();
  try {
    const jobs = await cli.queue(jobIds);
    return new Map(jobs.map((j) => [j.jobId, { state: j.state, reason: j.reason }]));
  } catch {
    return null;
  }
}
