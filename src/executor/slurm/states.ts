// SLURM's view of a job, read from `squeue -O` and `sacct -P` text (not JSON: its shape changes
// across Slurm versions, see shared/SLURM.md), and what each state means for a run. Pure.
import { constants } from 'node:os';

export interface JobInfo {
  jobId: string;
  state: string;
  reason: string | null;
  exitCode: number | null;
  signal: string | null;
}

/** States after which the job will not run again by itself. */
const TERMINAL = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'SPECIAL_EXIT',
  'REVOKED',
]);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

/** "CANCELLED by 0" -> "CANCELLED"; sacct prints that form. */
export function baseState(state: string): string {
  return state.trim().split(/\s+/)[0]!.replace(/\+$/, '').toUpperCase();
}

export function signalName(n: number): string | null {
  if (n === 0) return null;
  const found = Object.entries(constants.signals).find(([, v]) => v === n);
  return found ? found[0] : `SIG${n}`;
}

/**
 * `squeue -h -t all -O JobID:|,State:|,Reason:|,exit_code:` lines. squeue prints exit_code as a
 * raw wait status (exit 3 -> 768), decoded here.
 */
export function parseSqueue(text: string): JobInfo[] {
  const jobs: JobInfo[] = [];
  for (const line of text.split('\n')) {
    const [jobId, state, reason, status] = line.split('|').map((p) => p.trim());
    if (!jobId || !state || !/^\d+/.test(jobId)) continue;
    const raw = Number(status);
    const known = status !== undefined && status !== '' && Number.isInteger(raw);
    jobs.push({
      jobId,
      state: baseState(state),
      reason: reason && reason !== 'None' ? reason : null,
      exitCode: known ? (raw >> 8) & 0xff : null,
      signal: known ? signalName(raw & 0x7f) : null,
    });
  }
  return jobs;
}

/** `sacct -c -n -P -o JobID,State,ExitCode` lines (code:signal); the last line for an id wins. */
export function parseSacct(text: string): JobInfo[] {
  const byId = new Map<string, JobInfo>();
  for (const line of text.split('\n')) {
    const [jobId, state, exit] = line.split('|').map((p) => p.trim());
    if (!jobId || !state || !/^\d+$/.test(jobId)) continue; // steps (123.batch) are not the job
    const [code, sig] = (exit ?? '').split(':').map(Number);
    byId.set(jobId, {
      jobId,
      state: baseState(state),
      reason: null,
      exitCode: Number.isInteger(code) ? code! : null,
      signal: Number.isInteger(sig) ? signalName(sig!) : null,
    });
  }
  return [...byId.values()];
}
