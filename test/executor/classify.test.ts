import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyExit, type ChildExit } from '../../src/executor/classify.js';
import { buildSlots, parseNvidiaSmi } from '../../src/resources/gpus.js';

const exit = (over: Partial<ChildExit>): ChildExit => ({
  exitCode: 0,
  signal: null,
  spawnError: null,
  stderrTail: '',
  durationMs: 5,
  stoppedFor: null,
  forceKilled: false,
  ...over,
});

describe('how a child ended', () => {
  it('classifies every ending', () => {
    assert.equal(classifyExit(exit({})).status, 'completed');
    const cases: [Partial<ChildExit>, string, RegExp][] = [
      [{ exitCode: 3 }, 'exit', /exited with code 3/],
      [{ exitCode: null, signal: 'SIGSEGV' }, 'signal', /signal SIGSEGV/],
      [
        { exitCode: 1, stderrTail: 'x\ntorch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate\n' },
        'oom',
        /out of memory: torch\.cuda\.OutOfMemoryError/,
      ],
      [{ exitCode: null, signal: 'SIGKILL' }, 'oom', /OOM killer/],
      [
        {
          exitCode: 134,
          stderrTail: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
        },
        'oom',
        /JavaScript heap/,
      ],
      [
        { exitCode: null, signal: 'SIGTERM', stoppedFor: 'timeout', timeoutMs: 90_000 },
        'timeout',
        /exceeded the timeout of 90s/,
      ],
      [{ exitCode: null, spawnError: 'spawn nope ENOENT' }, 'spawn', /could not start the trainer: spawn nope ENOENT/],
    ];
    for (const [over, kind, reason] of cases) {
      const outcome = classifyExit(exit(over));
      assert.equal(outcome.status, 'failed');
      if (outcome.status === 'failed') {
        assert.equal(outcome.kind, kind, JSON.stringify(over));
        assert.match(outcome.reason, reason);
      }
    }
    const interrupted = classifyExit(
      exit({ exitCode: null, signal: 'SIGKILL', stoppedFor: 'interrupt', forceKilled: true }),
    );
    assert.equal(interrupted.status, 'interrupted');
  });
});

describe('slots', () => {
  const smi = '0, NVIDIA H100 80GB HBM3, 81559\n1, NVIDIA H100 80GB HBM3, 81559\n';
  it('parses nvidia-smi and spreads runs over GPUs first', () => {
    const gpus = parseNvidiaSmi(smi);
    assert.deepEqual(gpus[1], { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 });
    const slots = buildSlots({ gpus: 'auto', runs_per_gpu: 2, cpu_slots: 1 }, gpus, 'f');
    assert.deepEqual(
      slots.map((s) => s.id),
      ['gpu0.0', 'gpu1.0', 'gpu0.1', 'gpu1.1'],
    );
  });
  it('uses CPU slots without GPUs or with gpus: none, and checks a GPU list', () => {
    const gpus = parseNvidiaSmi(smi);
    assert.deepEqual(
      buildSlots({ gpus: 'none', runs_per_gpu: 1, cpu_slots: 3 }, gpus, 'f').map((s) => s.gpu),
      [null, null, null],
    );
    assert.deepEqual(
      buildSlots({ gpus: 'auto', runs_per_gpu: 1, cpu_slots: 2 }, [], 'f').map((s) => s.id),
      ['cpu0', 'cpu1'],
    );
    assert.deepEqual(
      buildSlots({ gpus: [1], runs_per_gpu: 1, cpu_slots: 1 }, gpus, 'f').map((s) => s.id),
      ['gpu1.0'],
    );
    assert.throws(
      () => buildSlots({ gpus: [0, 5], runs_per_gpu: 1, cpu_slots: 1 }, gpus, 'f.yaml'),
      /f\.yaml: resources\.gpus: GPU 5 not found/,
    );
  });
});
