// A run left by a dead orchestrator is stopped as a whole process group, whoever leads it now:
// a wrapper that started the trainer in the background and exited leaves the trainer in the group.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalExecutor } from '../../src/executor/local.js';
import { ROOT, pidAlive, tempDir, waitFor } from '../helpers.js';

const WRAPPER = join(ROOT, 'test/fixtures/background-wrapper.sh');
const executor = new LocalExecutor({
  resources: { gpus: 'none', runs_per_gpu: 1, cpu_slots: 1 },
  specFile: 'orphan.yaml',
});

/** Starts the wrapper as the run's group leader (as the local executor does) and waits for it to exit. */
async function startWrapped(runId: string, environment: 'names-run' | 'foreign') {
  const runDir = join(tempDir(), runId);
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  const env = {
    ...process.env,
    SWEEP_RUN_ID: environment === 'names-run' ? runId : 'someone-else',
    SWEEP_RUN_DIR: runDir,
    SWEEP_METRICS_FILE: join(runDir, 'metrics.jsonl'),
    SWEEP_CHECKPOINT_DIR: join(runDir, 'checkpoints'),
    SWEEP_PARAMS: JSON.stringify({ mode: 'hang', steps: 1 }),
    WRAPPER_SLEEP: '0.2',
  };
  const leader = spawn('/bin/sh', [WRAPPER], { env, detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => leader.on('exit', () => resolve()));
  const probe = await waitFor(
    () =>
      existsSync(join(runDir, 'probe-1.json')) &&
      (JSON.parse(readFileSync(join(runDir, 'probe-1.json'), 'utf8')) as { pid: number }),
    'the trainer to start',
  );
  await exited;
  assert.equal(pidAlive(leader.pid!), false, 'the wrapper has exited');
  assert.equal(pidAlive(probe.pid), true, 'the trainer runs on in the group');
  return { runDir, leaderPid: leader.pid!, trainerPid: probe.pid };
}

describe('stopping an orphaned run', () => {
  it('stops the trainer a wrapper left in the group after the wrapper exited', { timeout: 60_000 }, async () => {
    const run = await startWrapped('orphan0000a1', 'names-run');
    const result = await executor.stopOrphan({ runId: 'orphan0000a1', runDir: run.runDir, pid: run.leaderPid }, 2_000);
    assert.equal(result, 'stopped');
    assert.equal(pidAlive(run.trainerPid), false, 'nothing of the group outlives stopOrphan');
    assert.ok(existsSync(join(run.runDir, 'sigterm.log')), 'the trainer was asked to stop with SIGTERM first');
  });

  it('leaves a group alone when nothing in it names the run (a recycled pid)', { timeout: 60_000 }, async () => {
    const run = await startWrapped('orphan0000b2', 'foreign');
    try {
      const result = await executor.stopOrphan(
        { runId: 'orphan0000b2', runDir: run.runDir, pid: run.leaderPid },
        2_000,
      );
      assert.equal(result, 'not-running');
      assert.equal(pidAlive(run.trainerPid), true);
    } finally {
      process.kill(-run.leaderPid, 'SIGKILL');
    }
  });
});
