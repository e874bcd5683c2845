// The SLURM executor's pure parts: job script quoting, squeue/sacct parsing, state mapping, sbatch argv.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sbatchArgs, slurmOptionsFrom } from '../../src/executor/slurm/config.js';
import { outcomeOf } from '../../src/executor/slurm/outcome.js';
import { renderJobScript } from '../../src/executor/slurm/script.js';
import { parseSacct, parseSqueue, type JobInfo } from '../../src/executor/slurm/states.js';

const ctx = { cancelledFor: null, stderrTail: 'tail', durationMs: 5 } as const;
const job = (state: string, exitCode = 0, signal: string | null = null): JobInfo => ({
  jobId: '7',
  state,
  reason: null,
  exitCode,
  signal,
});

describe('SLURM executor: pure parts', () => {
  it('the job script passes hostile values through the shell unchanged', () => {
    const hostile = `it's "q" $(touch x) \`y\` $HOME \\ ; | & \n newline`;
    const script = renderJobScript({
      runId: 'r',
      attempt: '1',
      argv: ['/usr/bin/printf', '%s|%s', hostile, '$SWEEP_X'],
      env: { SWEEP_X: hostile },
      clearCudaDevices: true,
    });
    const file = join(mkdtempSync(join(tmpdir(), 'slurm-script-')), 'job.sh');
    writeFileSync(file, script);
    assert.equal(execFileSync('sh', [file], { encoding: 'utf8' }), `${hostile}|$SWEEP_X`);
    assert.throws(
      () => renderJobScript({ runId: 'r', attempt: '1', argv: ['x'], env: { 'A B': '1' }, clearCudaDevices: false }),
      /not valid/,
    );
    assert.doesNotMatch(
      renderJobScript({ runId: 'r', attempt: '1', argv: ['x'], env: {}, clearCudaDevices: false }),
      /CUDA_VISIBLE_DEVICES/,
    );
  });

  it('parses squeue (raw wait status) and sacct (code:signal, last line wins, steps ignored)', () => {
    assert.deepEqual(
      parseSqueue('1|COMPLETED|None|0\n2|FAILED|NonZeroExitCode|768\n3|PENDING|Resources|0\n4|FAILED|None|9\n'),
      [
        { jobId: '1', state: 'COMPLETED', reason: null, exitCode: 0, signal: null },
        { jobId: '2', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3, signal: null },
        { jobId: '3', state: 'PENDING', reason: 'Resources', exitCode: 0, signal: null },
        { jobId: '4', state: 'FAILED', reason: null, exitCode: 0, signal: 'SIGKILL' },
      ],
    );
    assert.deepEqual(parseSacct('5|RUNNING|0:0\n5|CANCELLED by 0|0:15\n5.batch|CANCELLED|0:15\n6|TIMEOUT|0:0\n'), [
      { jobId: '5', state: 'CANCELLED', reason: null, exitCode: 0, signal: 'SIGTERM' },
      { jobId: '6', state: 'TIMEOUT', reason: null, exitCode: 0, signal: null },
    ]);
  });

  it('maps every SLURM end state to a run outcome', () => {
    assert.equal((outcomeOf(job('COMPLETED'), ctx) as { status: string }).status, 'completed');
    assert.deepEqual(pick(outcomeOf(job('FAILED', 3), ctx)), ['failed', 'exit']);
    assert.deepEqual(pick(outcomeOf(job('FAILED', 0, 'SIGSEGV'), ctx)), ['failed', 'signal']);
    assert.deepEqual(
      pick(outcomeOf(job('FAILED', 0), ctx)),
      ['failed', 'exit'],
      'FAILED with a clean exit is still a failure',
    );
    assert.deepEqual(pick(outcomeOf(job('CANCELLED'), { ...ctx, cancelledFor: 'interrupt' })), [
      'interrupted',
      undefined,
    ]);
    assert.deepEqual(pick(outcomeOf(job('CANCELLED'), { ...ctx, cancelledFor: 'timeout' })), ['failed', 'timeout']);
    assert.deepEqual(pick(outcomeOf(job('CANCELLED'), ctx)), ['failed', 'signal']);
    assert.deepEqual(pick(outcomeOf(job('TIMEOUT'), ctx)), ['failed', 'timeout']);
    assert.deepEqual(pick(outcomeOf(job('OUT_OF_MEMORY'), ctx)), ['failed', 'oom']);
    assert.deepEqual(pick(outcomeOf(job('NODE_FAIL'), ctx)), ['failed', 'signal']);
    assert.equal(outcomeOf(job('PREEMPTED'), ctx), 'requeue');
    assert.deepEqual(
      pick(
        outcomeOf({ ...job('FAILED', 1), reason: null }, { ...ctx, stderrTail: 'RuntimeError: CUDA out of memory.' }),
      ),
      ['failed', 'oom'],
    );
  });

  it('builds sbatch options from the resources, user sbatch_args last, % escaped in paths', () => {
    const options = slurmOptionsFrom(
      {
        gpus: 'auto',
        runs_per_gpu: 1,
        cpu_slots: 1,
        executor: 'slurm',
        partition: 'gpu',
        cpus_per_run: 8,
        mem: '64G',
        time: '12:00:00',
        account: 'a',
        qos: 'q',
        sbatch_args: ['--exclusive'],
        poll_interval: '2s',
      },
      'f.yaml',
    );
    assert.equal(options.pollMs, 2000);
    assert.equal(options.gpusPerRun, 1);
    assert.deepEqual(sbatchArgs(options, { runId: 'abc', stdoutFile: '/r/50%/stdout.log', stderrFile: '/r/e.log' }), [
      '--job-name=clipsweep-abc',
      '--output=/r/50%%/stdout.log',
      '--error=/r/e.log',
      '--open-mode=append',
      '--partition=gpu',
      '--account=a',
      '--qos=q',
      '--gres=gpu:1',
      '--cpus-per-task=8',
      '--mem=64G',
      '--time=12:00:00',
      '--exclusive',
    ]);
    assert.equal(slurmOptionsFrom({ gpus: 'none', runs_per_gpu: 1, cpu_slots: 1 }, 'f').gpusPerRun, 0);
    assert.ok(
      sbatchArgs(slurmOptionsFrom({ gpus: 'none', runs_per_gpu: 1, cpu_slots: 1 }, 'f'), {
        runId: 'x',
        stdoutFile: 'o',
        stderrFile: 'e',
        timeoutMs: 90_000,
      }).includes('--time=3'),
    );
    assert.throws(
      () => slurmOptionsFrom({ gpus: 'none', runs_per_gpu: 1, cpu_slots: 1, poll_interval: 'soon' }, 'f.yaml'),
      /poll_interval/,
    );
  });
});

function pick(outcome: ReturnType<typeof outcomeOf>): [string, string | undefined] {
  if (outcome === 'requeue') return ['requeue', undefined];
  return [outcome.status, outcome.status === 'failed' ? outcome.kind : undefined];
}
