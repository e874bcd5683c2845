// The SLURM executor against a real single-node SLURM (test/slurm/start.sh; two fake GPUs as
// GRES): the executor contract, and sweeps through the real CLI. As root this file starts SLURM
// itself and stops it afterwards; without SLURM and without root it is skipped, saying how to run it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { SlurmExecutor } from '../../src/executor/slurm/executor.js';
import type { SlurmOptions } from '../../src/executor/slurm/config.js';
import { openReader, type StoreReader } from '../../src/store/index.js';
import type { RunRecord } from '../../src/store/types.js';
import { cli, sleep, tempDir, waitFor, writeSweep } from '../helpers.js';
import { executorContract } from './contract.js';
import { ensureSlurm, START, stopSlurm, type Cluster } from './slurm-cluster.js';

async function skipReason(): Promise<string | false> {
  const up = await execa('scontrol', ['ping'], { reject: false, stdin: 'ignore', timeout: 10_000 });
  if (!up.failed && /UP/.test(String(up.stdout))) return false;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return false; // before() starts it
  return `SLURM is not running and we are not root: run "sudo ${START}", then npm test again (test/slurm/stop.sh stops it)`;
}

const skip = await skipReason();
if (skip) console.log(`# skipping the SLURM tests: ${skip}`);

function slurmOptions(extra: Partial<SlurmOptions> = {}): SlurmOptions {
  return { gpusPerRun: 0, sbatchArgs: [], maxParallel: 4, pollMs: 300, ...extra };
}

/** A PATH folder whose sbatch logs each call, then runs the real one. */
function countingSbatch(dir: string): { env: Record<string, string>; calls: () => string[] } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, 'sbatch-calls.log');
  const real = execaSyncWhich('sbatch');
  writeFileSync(join(bin, 'sbatch'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(bin, 'sbatch'), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}

function execaSyncWhich(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  return `/usr/bin/${command}`;
}

function runsOf(dir: string, sweep: string): RunRecord[] {
  const db = join(dir, 'runs', 'sweeps.db');
  if (!existsSync(db)) return [];
  const store = openReader(db);
  try {
    const found = store.findSweep(sweep);
    return found ? store.listRuns(found.pk) : [];
  } finally {
    store.close();
  }
}

function withStore<T>(dir: string, use: (store: StoreReader) => T): T {
  const store = openReader(join(dir, 'runs', 'sweeps.db'));
  try {
    return use(store);
  } finally {
    store.close();
  }
}

async function squeueKnows(jobId: string): Promise<boolean> {
  const r = await execa('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%i'], { reject: false, stdin: 'ignore' });
  return !r.failed && String(r.stdout).trim() === jobId;
}

describe('SLURM executor (real single-node SLURM)', { concurrency: true, skip }, () => {
  let cluster: Cluster = { skip: null, startedHere: false };
  before(async () => {
    cluster = await ensureSlurm();
    if (cluster.skip !== null) throw new Error(cluster.skip);
  });
  after(async () => {
    await stopSlurm(cluster);
  });

  executorContract('slurm', () => ({ executor: new SlurmExecutor(slurmOptions()) }), {
    timeoutMs: 120_000,
    gpuExecutor: (gpus) => ({ executor: new SlurmExecutor(slurmOptions({ gpusPerRun: gpus })) }),
  });

  it('a small sweep through the CLI completes with all metrics, one job per run', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      `name: slurm-ok
trainer: { command: [node, $TRAINER] }
base: { steps: 4 }
grid: { lr: [1, 2, 3] }
configs: [{ name: "it's quoted; $(touch pwned) \`x\`", lr: 9 }]
resources: { executor: slurm, gpus_per_run: 0, poll_interval: 300ms }
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.all);
    const runs = runsOf(dir, 'slurm-ok');
    assert.equal(runs.length, 4);
    assert.equal(new Set(runs.map((r) => r.jobId)).size, 4, 'one job per run');
    withStore(dir, (store) => {
      for (const run of runs) {
        assert.equal(run.status, 'completed', `${run.name}: ${run.reason}`);
        assert.match(run.jobId ?? '', /^\d+$/);
        assert.equal(store.series(run.pk, 'train/loss').length, 4, run.name);
        assert.equal(store.series(run.pk, 'val/loss').length, 1, run.name);
        const probe = JSON.parse(readFileSync(join(run.runDir, 'probe-1.json'), 'utf8'));
        assert.equal(probe.gpu, '', 'a job without GPUs sees an empty CUDA_VISIBLE_DEVICES');
      }
    });
    assert.equal(existsSync(join(dir, 'pwned')), false, 'a run name never reaches a shell');
    const status = await cli(['status', 'slurm-ok', '--json'], { cwd: dir });
    const parsed = JSON.parse(status.stdout as string);
    assert.deepEqual(parsed.runs.map((r: { job_id: string }) => r.job_id).sort(), runs.map((r) => r.jobId).sort());
  });

  it(
    'a failing job, an out-of-memory job and a job cancelled by hand map to their run states',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(
        dir,
        `name: slurm-states
trainer: { command: [node, $TRAINER] }
base: { steps: 3 }
configs:
  - { name: crash, mode: crash, crash_at: 1 }
  - { name: oom, mode: oom }
  - { name: scancelled, mode: hang }
resources: { executor: slurm, gpus_per_run: 0, poll_interval: 300ms }
`,
      );
      const child = cli(['run', 'sweep.yaml'], { cwd: dir });
      const hung = await waitFor(
        () =>
          runsOf(dir, 'slurm-states').find(
            (r) => r.name === 'scancelled' && r.jobId !== null && existsSync(join(r.runDir, 'probe-1.json')),
          ),
        'the hung job',
      );
      await execa('scancel', [hung.jobId!]);
      const result = await child;
      assert.equal(result.exitCode, 1, result.all);
      const byName = new Map(runsOf(dir, 'slurm-states').map((r) => [r.name, r]));
      const crash = byName.get('crash')!;
      assert.equal(crash.status, 'failed');
      assert.equal(crash.failureKind, 'exit');
      assert.equal(crash.exitCode, 3);
      assert.match(crash.stderrTail ?? '', /ValueError: boom/);
      assert.match(crash.reason ?? '', /FAILED/);
      const oom = byName.get('oom')!;
      assert.equal(oom.status, 'infeasible', 'out of memory is not retried blindly');
      assert.equal(oom.failureKind, 'oom');
      const cancelled = byName.get('scancelled')!;
      assert.equal(cancelled.status, 'failed');
      assert.match(cancelled.reason ?? '', /CANCELLED.*outside/);
    },
  );

  it('a job past its SLURM time limit fails as a timeout', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      `name: slurm-timeout
trainer: { command: [node, $TRAINER] }
base: { steps: 1, mode: hang }
configs: [{ name: forever }]
resources: { executor: slurm, gpus_per_run: 0, time: 1, poll_interval: 500ms }
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 1, result.all);
    const [run] = runsOf(dir, 'slurm-timeout');
    assert.equal(run!.status, 'failed');
    assert.equal(run!.failureKind, 'timeout');
    assert.match(run!.reason ?? '', /TIMEOUT/);
  });

  it('sweep cancel stops the sweep process and its jobs: runs are interrupted', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      `name: slurm-cancel
trainer: { command: [node, $TRAINER] }
base: { steps: 1, mode: hang }
grid: { lr: [1, 2] }
resources: { executor: slurm, gpus_per_run: 0, poll_interval: 300ms }
`,
    );
    const child = cli(['run', 'sweep.yaml'], { cwd: dir });
    const running = await waitFor(() => {
      const runs = runsOf(dir, 'slurm-cancel');
      return runs.length === 2 && runs.every((r) => r.jobId !== null && existsSync(join(r.runDir, 'probe-1.json')))
        ? runs
        : undefined;
    }, 'two running jobs');
    const cancel = await cli(['cancel', 'slurm-cancel'], { cwd: dir });
    assert.equal(cancel.exitCode, 0, cancel.all);
    const result = await child;
    assert.equal(result.exitCode, 130, result.all);
    for (const run of runsOf(dir, 'slurm-cancel'))
      assert.equal(run.status, 'interrupted', `${run.name}: ${run.reason}`);
    for (const run of running)
      assert.equal(
        (await squeueKnows(run.jobId!)) && !(await jobEnded(run.jobId!)),
        false,
        `job ${run.jobId} still runs`,
      );
  });

  it(
    'after kill -9 of the orchestrator, a restart re-attaches to the same jobs (finished ones through sacct)',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      const sbatch = countingSbatch(dir);
      writeSweep(
        dir,
        `name: slurm-restart
trainer: { command: [node, $TRAINER] }
configs:
  - { name: short-a, steps: 3 }
  - { name: short-b, steps: 3, lr: 2 }
  - { name: long-a, steps: 60, step_ms: 500 }
  - { name: long-b, steps: 60, step_ms: 500, lr: 2 }
resources: { executor: slurm, gpus_per_run: 0, poll_interval: 300ms }
`,
      );
      const first = cli(['run', 'sweep.yaml'], { cwd: dir, env: sbatch.env });
      const submitted = await waitFor(() => {
        const runs = runsOf(dir, 'slurm-restart');
        return runs.length === 4 && runs.every((r) => r.jobId !== null) ? runs : undefined;
      }, 'four submitted jobs');
      first.kill('SIGKILL');
      await first;
      assert.equal(sbatch.calls().length, 4);
      const ids = new Map(submitted.map((r) => [r.name, r.jobId]));
      // The short jobs end while no orchestrator watches, and the controller forgets them (MinJobAge).
      for (const name of ['short-a', 'short-b']) {
        const jobId = ids.get(name)!;
        for (let i = 0; i < 240 && (await squeueKnows(jobId)); i++) await sleep(500);
        assert.equal(await squeueKnows(jobId), false, `the controller still knows job ${jobId}: is MinJobAge short?`);
      }
      const second = await cli(['run', 'sweep.yaml'], { cwd: dir, env: sbatch.env });
      assert.equal(second.exitCode, 0, second.all);
      assert.equal(sbatch.calls().length, 4, `sbatch was called again: ${sbatch.calls().join(' | ')}`);
      withStore(dir, (store) => {
        for (const run of store.listRuns(store.getSweep('slurm-restart').pk)) {
          assert.equal(run.status, 'completed', `${run.name}: ${run.reason}`);
          assert.equal(run.jobId, ids.get(run.name), 'the same job');
          assert.equal(run.attempt, 1, 'not run again');
          const steps = run.name.startsWith('short') ? 3 : 60;
          assert.equal(store.series(run.pk, 'train/loss').length, steps, `${run.name}: every metric exactly once`);
          assert.ok(
            store.transitions(run.pk).some((t) => /re-attached to slurm job/.test(t.detail ?? '')),
            run.name,
          );
        }
      });
    },
  );
});

async function jobEnded(jobId: string): Promise<boolean> {
  const r = await execa('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T'], { reject: false, stdin: 'ignore' });
  return r.failed || !['PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING'].includes(String(r.stdout).trim());
}
