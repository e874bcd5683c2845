// The executor contract, one suite for every executor (as Optuna runs one storage suite against
// every backend): a run completes with all its metrics, a failing run fails with its exit code
// and stderr tail, an aborted run is interrupted, a run past its timeout fails as a timeout, and
// (where the executor places GPUs) concurrent runs see different GPUs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Executor, Job, RunOutcome } from '../../src/executor/types.js';
import type { Slot } from '../../src/resources/gpus.js';
import { tempDir, TRAINER } from '../helpers.js';

export interface ContractSubject {
  executor: Executor;
  /** Slot for a run; the default is the executor's first slot. */
  slot?: (i: number) => Slot;
}

export interface ContractOptions {
  /** Executors that hand out GPUs themselves (SLURM's --gres): check CUDA_VISIBLE_DEVICES. */
  gpuExecutor?: (gpusPerRun: number) => ContractSubject;
  /** node:test skip reason: the suite is reported, not run. */
  skip?: string | false;
  /** Per-test limit (a batch scheduler adds its poll interval and scheduling delays). */
  timeoutMs?: number;
}

export function makeJob(dir: string, runId: string, params: Record<string, unknown>, extra: Partial<Job> = {}): Job {
  const runDir = join(dir, runId);
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  return {
    runId,
    runDir,
    argv: [process.execPath, TRAINER],
    env: {
      SWEEP_RUN_ID: runId,
      SWEEP_RUN_DIR: runDir,
      SWEEP_PARAMS: JSON.stringify(params),
      SWEEP_METRICS_FILE: join(runDir, 'metrics.jsonl'),
      SWEEP_CHECKPOINT_DIR: join(runDir, 'checkpoints'),
      SWEEP_ATTEMPT: '1',
    },
    stdoutFile: join(runDir, 'stdout.log'),
    stderrFile: join(runDir, 'stderr.log'),
    killGraceMs: 1000,
    ...extra,
  };
}

async function runOne(
  subject: ContractSubject,
  job: Job,
  i = 0,
  signal = new AbortController().signal,
): Promise<RunOutcome> {
  const slot = subject.slot?.(i) ?? (await subject.executor.slots())[0]!;
  return subject.executor.run(job, slot, { signal });
}

function probe(job: Job): { gpu: string | null; started: number; ended: number | null } {
  return JSON.parse(readFileSync(join(job.runDir, 'probe-1.json'), 'utf8'));
}

export function executorContract(name: string, factory: () => ContractSubject, options: ContractOptions = {}): void {
  const opts = { timeout: options.timeoutMs ?? 60_000, skip: options.skip ?? false };
  // Unique ids per process: a batch scheduler names jobs after them.
  const id = (tag: string): string =>
    `${tag}${process.pid.toString(16)}${Math.random().toString(16).slice(2, 6)}`.slice(0, 12);

  it(`${name}: a run completes with all its metrics`, opts, async () => {
    const dir = tempDir();
    const job = makeJob(dir, id('ok'), { steps: 4 });
    const outcome = await runOne(factory(), job);
    assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
    const lines = readFileSync(job.env.SWEEP_METRICS_FILE!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(
      lines.filter((l) => typeof l.step === 'number').length,
      5,
      'four training steps and the final validation',
    );
    assert.deepEqual(lines.at(-1), { event: 'finished', reason: 'completed', summary: { steps: 4 } });
    assert.ok(
      existsSync(job.stdoutFile) && existsSync(job.stderrFile),
      'stdout.log and stderr.log are in the run folder',
    );
  });

  it(`${name}: a failing run fails with its exit code and stderr tail`, opts, async () => {
    const dir = tempDir();
    const outcome = await runOne(factory(), makeJob(dir, id('crash'), { mode: 'crash', crash_at: 1 }));
    assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
    assert.ok(outcome.status === 'failed');
    assert.equal(outcome.kind, 'exit');
    assert.equal(outcome.exitCode, 3);
    assert.match(outcome.stderrTail, /ValueError: boom/);
  });

  it(`${name}: an aborted run is interrupted`, opts, async () => {
    const dir = tempDir();
    const job = makeJob(dir, id('hang'), { mode: 'hang', steps: 1 });
    const controller = new AbortController();
    const running = runOne(factory(), job, 0, controller.signal);
    // Abort once the trainer is up (its probe file exists), so the stop reaches a live process.
    for (let i = 0; i < 600 && !existsSync(join(job.runDir, 'probe-1.json')); i++)
      await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    const outcome = await running;
    assert.equal(outcome.status, 'interrupted', JSON.stringify(outcome));
  });

  it(`${name}: a run past its timeout fails as a timeout`, opts, async () => {
    const dir = tempDir();
    const outcome = await runOne(factory(), makeJob(dir, id('slow'), { mode: 'hang', steps: 1 }, { timeoutMs: 1500 }));
    assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
    assert.ok(outcome.status === 'failed');
    assert.equal(outcome.kind, 'timeout');
  });

  if (options.gpuExecutor !== undefined) {
    const gpuExecutor = options.gpuExecutor;
    it(`${name}: two GPU runs at once see different GPUs and a third waits`, opts, async () => {
      const dir = tempDir();
      const subject = gpuExecutor(1);
      const jobs = [0, 1, 2].map((i) => makeJob(dir, id(`gpu${i}`), { steps: 10, step_ms: 300, i }));
      const outcomes = await Promise.all(jobs.map((job, i) => runOne(subject, job, i)));
      for (const outcome of outcomes) assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
      const probes = jobs.map(probe);
      // Order the runs by start: the first two ran together on different GPUs, the third after one ended.
      const [a, b, c] = [...probes].sort((x, y) => x.started - y.started);
      assert.notEqual(a!.gpu, b!.gpu, `concurrent runs share a GPU: ${JSON.stringify(probes)}`);
      assert.ok(['0', '1'].includes(a!.gpu!) && ['0', '1'].includes(b!.gpu!), JSON.stringify(probes));
      assert.ok(b!.started < Math.min(a!.ended!, b!.ended!), 'the first two overlapped');
      assert.ok(
        c!.started >= Math.min(a!.ended!, b!.ended!),
        `the third did not wait for a GPU: ${JSON.stringify(probes)}`,
      );
    });
  }
}
