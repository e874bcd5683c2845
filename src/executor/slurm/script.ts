// The job script: the run's environment and argv, every value single-quoted so that nothing a
// user wrote (parameters, paths, trainer argv) is ever interpreted by the shell. Pure.
import { ClipsweepError } from '../../errors.js';

/** POSIX single quoting: the one character that needs care inside '...' is ' itself. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new ClipsweepError('EXECUTOR', 'a job script value holds a NUL byte');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ScriptInput {
  runId: string;
  attempt: string;
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Without GPUs the run sees an empty CUDA_VISIBLE_DEVICES, as on a local CPU slot. */
  clearCudaDevices: boolean;
}

export function renderJobScript(input: ScriptInput): string {
  if (input.argv.length === 0) throw new ClipsweepError('EXECUTOR', 'the trainer argv is empty');
  const lines = [
    '#!/bin/sh',
    `# clipsweep run ${input.runId}, attempt ${input.attempt}. Generated: edits are overwritten.`,
  ];
  for (const [name, value] of Object.entries(input.env)) {
    if (!ENV_NAME.test(name))
      throw new ClipsweepError(
        'EXECUTOR',
        `environment variable name ${JSON.stringify(name)} is not valid in a job script`,
      );
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  // With --gres SLURM sets CUDA_VISIBLE_DEVICES itself; it is never set here for GPU jobs.
  if (input.clearCudaDevices) lines.push("export CUDA_VISIBLE_DEVICES=''");
  // exec: the trainer is the job's process, so its exit code and signals are the job's.
  lines.push(`exec ${input.argv.map(shellQuote).join(' ')}`, '');
  return lines.join('\n');
}
