// Short runs back to back over several slots (a sweep of quick children): each exited child's
// process handle must be closed as the sweep goes. libuv closes handles only when its loop turns,
// and a child's exit arrives inside its SIGCHLD handler; spawning the next run from there kept the
// loop in that handler, so every exited child (with its ChildProcess and execa's state) stayed in
// memory until the sweep paused.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalExecutor } from '../../src/executor/local.js';
import type { Job } from '../../src/executor/types.js';
import { tempDir } from '../helpers.js';

const RUNS = 400;

function quickJob(dir: string, i: number): Job {
  const runDir = join(dir, `r${i}`);
  mkdirSync(runDir, { recursive: true });
  return {
    runId: `r${i}`,
    runDir,
    argv: ['/bin/true'],
    env: {},
    stdoutFile: join(runDir, 'stdout.log'),
    stderrFile: join(runDir, 'stderr.log'),
    killGraceMs: 1000,
  };
}

const childHandles = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'ProcessWrap').length;

describe('local executor: short runs back to back', () => {
  it('closes each exited child while the next ones run', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const executor = new LocalExecutor({
      resources: { gpus: 'none', runs_per_gpu: 1, cpu_slots: 4 },
      specFile: join(dir, 'sweep.yaml'),
    });
    const slots = await executor.slots();
    const signal = new AbortController().signal;
    let next = 0;
    let completed = 0;
    let mostOpen = 0;
    // One worker per slot, each starting its next run as soon as the last one is settled.
    await Promise.all(
      slots.map(async (slot) => {
        while (next < RUNS) {
          const outcome = await executor.run(quickJob(dir, next++), slot, { signal });
          assert.equal(outcome.status, 'completed');
          completed++;
          mostOpen = Math.max(mostOpen, childHandles());
        }
      }),
    );
    assert.equal(completed, RUNS);
    // Open at any moment: the children running, and those whose exit this loop turn delivered.
    assert.ok(
      mostOpen <= 2 * slots.length,
      `${mostOpen} child process handles open at once over ${slots.length} slots`,
    );
  });
});
