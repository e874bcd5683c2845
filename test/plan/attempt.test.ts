// The attempt policy, every branch: what happens after one attempt, as a value (nothing written).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunOutcome } from '../../src/executor/types.js';
import { decideAttempt, type AttemptDecision, type AttemptInput, type AttemptSlot } from '../../src/plan/attempt.js';

const small: AttemptSlot = { id: 'gpu0.0', gpu: 0, gpuMemoryMiB: 8000 };
const big: AttemptSlot = { id: 'gpu1.0', gpu: 1, gpuMemoryMiB: 40000 };
const cpu: AttemptSlot = { id: 'cpu0', gpu: null };

const completed: RunOutcome = { status: 'completed', durationMs: 10 };
const failed = (kind: 'exit' | 'signal' | 'timeout' | 'oom' | 'spawn', reason = `${kind} happened`): RunOutcome => ({
  status: 'failed',
  kind,
  exitCode: kind === 'exit' || kind === 'oom' ? 1 : null,
  signal: kind === 'signal' ? 'SIGSEGV' : null,
  reason,
  stderrTail: 'tail',
  durationMs: 10,
});
const interrupted: RunOutcome = {
  status: 'interrupted',
  exitCode: null,
  signal: 'SIGTERM',
  reason: 'interrupted by SIGTERM',
  stderrTail: '',
  durationMs: 10,
};

const base: AttemptInput = {
  outcome: completed,
  prune: null,
  aborted: false,
  slot: small,
  attemptNo: 1,
  attemptsHere: 1,
  retries: 1,
  excludedGpus: [],
  slots: [small, big],
};

const cases: {
  name: string;
  input: Partial<AttemptInput>;
  expect: Partial<AttemptDecision> & { status: string; failureKind?: string | null; reason?: RegExp | null };
}[] = [
  {
    name: 'completed',
    input: {},
    expect: { status: 'completed', failureKind: null, reason: null, retry: null, excludeGpu: null },
  },
  {
    name: 'completed even when a prune decision exists',
    input: { prune: { reason: 'rung 1', rung: 1 } },
    expect: { status: 'completed', retry: null },
  },
  {
    name: 'stopped by the pruner: pruned, with the rung',
    input: { outcome: interrupted, prune: { reason: 'worse than median', rung: 2 } },
    expect: { status: 'pruned', failureKind: null, reason: /^pruned: worse than median$/, retry: null },
  },
  {
    name: 'pruned but the sweep aborted: interrupted',
    input: { outcome: interrupted, prune: { reason: 'x', rung: 0 }, aborted: true },
    expect: { status: 'interrupted', failureKind: 'interrupted', retry: null },
  },
  {
    name: 'interrupted',
    input: { outcome: interrupted },
    expect: { status: 'interrupted', failureKind: 'interrupted', reason: /SIGTERM/, retry: null, excludeGpu: null },
  },
  {
    name: 'failed with retries left: retried here',
    input: { outcome: failed('exit') },
    expect: {
      status: 'failed',
      failureKind: 'exit',
      retry: { where: 'here', detail: 'attempt 1 failed: exit happened' },
    },
  },
  {
    name: 'failed with the budget spent: failed for good',
    input: { outcome: failed('signal'), attemptsHere: 2 },
    expect: { status: 'failed', failureKind: 'signal', retry: null },
  },
  {
    name: 'failed with retries: 0',
    input: { outcome: failed('timeout'), retries: 0 },
    expect: { status: 'failed', failureKind: 'timeout', retry: null },
  },
  {
    name: 'failed while the sweep aborts: no retry',
    input: { outcome: failed('spawn'), aborted: true },
    expect: { status: 'failed', failureKind: 'spawn', retry: null },
  },
  {
    name: 'out of memory with a bigger GPU left: moved there',
    input: { outcome: failed('oom', 'CUDA out of memory') },
    expect: {
      status: 'infeasible',
      failureKind: 'oom',
      reason: /CUDA out of memory \(on gpu0\.0\)/,
      excludeGpu: 0,
      retry: { where: 'bigger-gpu', detail: 'attempt 1 CUDA out of memory on gpu0.0; trying a GPU with more memory' },
    },
  },
  {
    name: 'out of memory on the biggest GPU: infeasible',
    input: { outcome: failed('oom'), slot: big },
    expect: { status: 'infeasible', failureKind: 'oom', excludeGpu: 1, retry: null },
  },
  {
    name: 'out of memory where the bigger GPU was already tried: infeasible',
    input: { outcome: failed('oom'), excludedGpus: [1] },
    expect: { status: 'infeasible', excludeGpu: 0, retry: null },
  },
  {
    name: 'out of memory ignores the retry budget',
    input: { outcome: failed('oom'), attemptsHere: 5, retries: 0 },
    expect: {
      status: 'infeasible',
      retry: { where: 'bigger-gpu', detail: 'attempt 1 oom happened on gpu0.0; trying a GPU with more memory' },
    },
  },
  {
    name: 'out of memory while the sweep aborts: no move',
    input: { outcome: failed('oom'), aborted: true },
    expect: { status: 'infeasible', excludeGpu: 0, retry: null },
  },
  {
    name: 'out of memory on a CPU slot: nothing to exclude, a GPU slot is bigger',
    input: { outcome: failed('oom'), slot: cpu, slots: [cpu, small] },
    expect: {
      status: 'infeasible',
      excludeGpu: null,
      retry: { where: 'bigger-gpu', detail: 'attempt 1 oom happened on cpu0; trying a GPU with more memory' },
    },
  },
  {
    name: 'out of memory on CPU slots only: infeasible',
    input: { outcome: failed('oom'), slot: cpu, slots: [cpu] },
    expect: { status: 'infeasible', excludeGpu: null, retry: null },
  },
  {
    name: 'out of memory beside other processes (pack: memory): placed again, GPU kept',
    input: { outcome: failed('oom'), slot: big, sharedGpu: true },
    expect: {
      status: 'infeasible',
      excludeGpu: null,
      retry: {
        where: 'here',
        detail: 'attempt 1 oom happened on gpu1.0 beside other processes; placing it again with more room',
      },
    },
  },
  {
    name: 'out of memory beside other processes while the sweep aborts: the usual rule',
    input: { outcome: failed('oom'), slot: big, sharedGpu: true, aborted: true },
    expect: { status: 'infeasible', excludeGpu: 1, retry: null },
  },
  {
    name: 'out of memory on a GPU of equal size: not bigger',
    input: { outcome: failed('oom'), slots: [small, { ...small, id: 'gpu2.0', gpu: 2 }] },
    expect: { status: 'infeasible', retry: null },
  },
];

describe('decideAttempt', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = decideAttempt({ ...base, ...c.input });
      assert.equal(decision.final.status, c.expect.status);
      if (c.expect.failureKind !== undefined) assert.equal(decision.final.failureKind, c.expect.failureKind);
      if (c.expect.reason === null) assert.equal(decision.final.reason, null);
      else if (c.expect.reason !== undefined) assert.match(decision.final.reason ?? '', c.expect.reason);
      if (c.expect.retry !== undefined) assert.deepEqual(decision.retry, c.expect.retry);
      if (c.expect.excludeGpu !== undefined) assert.equal(decision.excludeGpu, c.expect.excludeGpu);
    });
  }

  it('keeps the exit code, signal and stderr tail of a failure', () => {
    const decision = decideAttempt({ ...base, outcome: failed('signal'), attemptsHere: 9 });
    assert.deepEqual(decision.final, {
      status: 'failed',
      exitCode: null,
      signal: 'SIGSEGV',
      stderrTail: 'tail',
      failureKind: 'signal',
      reason: 'signal happened',
    });
  });

  it('keeps the rung of a pruned run', () => {
    const decision = decideAttempt({ ...base, outcome: failed('exit'), prune: { reason: 'r', rung: 3 } });
    assert.equal(decision.final.pruneRung, 3);
    assert.equal(decision.retry, null);
  });

  it('does not change its inputs', () => {
    const excludedGpus = Object.freeze([2]) as readonly number[];
    decideAttempt({ ...base, outcome: failed('oom'), excludedGpus });
    assert.deepEqual(excludedGpus, [2]);
  });
});
