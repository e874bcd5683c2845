// decideRun, every branch: which of a sweep's runs an invocation runs, from the store's record.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRun, type ResumePolicy } from '../../src/plan/decide.js';
import type { RunRecord, RunStatus } from '../../src/store/types.js';

function record(status: RunStatus, over: Partial<RunRecord> = {}): RunRecord {
  return {
    pk: 1,
    sweepPk: 1,
    id: 'r1',
    name: 'r1',
    params: {},
    ordinal: 0,
    status,
    attempt: 1,
    slot: null,
    gpu: null,
    owner: 'host:1:abc',
    pid: null,
    jobId: null,
    pruneRung: null,
    origin: null,
    runDir: '/tmp/r1',
    queuedAt: null,
    startedAt: null,
    endedAt: null,
    exitCode: null,
    signal: null,
    failureKind: null,
    reason: null,
    stderrTail: null,
    excludedGpus: [],
    totalSteps: null,
    lastStep: null,
    metricsOffset: 0,
    metricLines: 0,
    badLines: 0,
    summary: null,
    ...over,
  };
}

const plain: ResumePolicy = { retryFailed: true, retryInfeasible: false, rerun: false };
const live = (): boolean => true;
const dead = (): boolean => false;

type Expected = { action: 'run'; requeueFrom: RunStatus | null; fresh: boolean } | { action: 'skip'; why: RegExp };
const cases: { name: string; run: RunRecord; policy?: Partial<ResumePolicy>; liveOwner?: boolean; expect: Expected }[] =
  [
    {
      name: 'running under a live owner: skipped',
      run: record('running'),
      liveOwner: true,
      expect: { action: 'skip', why: /running in another sweep process/ },
    },
    {
      name: 'running under a dead owner: run (recovered first)',
      run: record('running'),
      expect: { action: 'run', requeueFrom: null, fresh: false },
    },
    {
      name: 'running under a live owner, even with --rerun: skipped',
      run: record('running'),
      liveOwner: true,
      policy: { rerun: true },
      expect: { action: 'skip', why: /another sweep process/ },
    },
    {
      name: 'rerun of a completed run: fresh, from completed',
      run: record('completed'),
      policy: { rerun: true },
      expect: { action: 'run', requeueFrom: 'completed', fresh: true },
    },
    {
      name: 'rerun of a queued run never attempted: not fresh',
      run: record('queued', { attempt: 0 }),
      policy: { rerun: true },
      expect: { action: 'run', requeueFrom: null, fresh: false },
    },
    {
      name: 'rerun of a queued run attempted before: fresh',
      run: record('queued', { attempt: 2 }),
      policy: { rerun: true },
      expect: { action: 'run', requeueFrom: null, fresh: true },
    },
    {
      name: 'queued: run',
      run: record('queued', { attempt: 0 }),
      expect: { action: 'run', requeueFrom: null, fresh: false },
    },
    {
      name: 'interrupted: resumed',
      run: record('interrupted'),
      expect: { action: 'run', requeueFrom: 'interrupted', fresh: false },
    },
    {
      name: 'failed with retryFailed: run again',
      run: record('failed', { reason: 'exit 3' }),
      expect: { action: 'run', requeueFrom: 'failed', fresh: false },
    },
    {
      name: 'failed without retryFailed: skipped with the reason',
      run: record('failed', { reason: 'exit 3' }),
      policy: { retryFailed: false },
      expect: { action: 'skip', why: /failed \(exit 3\); --retry-failed/ },
    },
    {
      name: 'failed without a reason: says unknown',
      run: record('failed'),
      policy: { retryFailed: false },
      expect: { action: 'skip', why: /unknown reason/ },
    },
    {
      name: 'infeasible: skipped',
      run: record('infeasible', { reason: 'CUDA out of memory' }),
      expect: { action: 'skip', why: /infeasible \(CUDA out of memory\); --retry-infeasible/ },
    },
    {
      name: 'infeasible with retryInfeasible: run',
      run: record('infeasible'),
      policy: { retryInfeasible: true },
      expect: { action: 'run', requeueFrom: 'infeasible', fresh: false },
    },
    { name: 'completed: skipped', run: record('completed'), expect: { action: 'skip', why: /completed; --rerun/ } },
    {
      name: 'pruned: never resurrected',
      run: record('pruned', { reason: 'rung 1' }),
      expect: { action: 'skip', why: /pruned \(rung 1\); --rerun/ },
    },
    {
      name: 'pruned with --rerun: fresh',
      run: record('pruned'),
      policy: { rerun: true },
      expect: { action: 'run', requeueFrom: 'pruned', fresh: true },
    },
  ];

describe('decideRun', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = decideRun(c.run, { ...plain, ...c.policy }, c.liveOwner ? live : dead);
      assert.equal(decision.run, c.run);
      if (c.expect.action === 'run') {
        assert.deepEqual(decision, {
          action: 'run',
          run: c.run,
          requeueFrom: c.expect.requeueFrom,
          fresh: c.expect.fresh,
        });
      } else {
        assert.equal(decision.action, 'skip');
        if (decision.action === 'skip') assert.match(decision.why, c.expect.why);
      }
    });
  }

  it("asks the liveness check about the run's own owner", () => {
    const asked: (string | null)[] = [];
    decideRun(record('running', { owner: 'h:9:x' }), plain, (owner) => (asked.push(owner), false));
    assert.deepEqual(asked, ['h:9:x']);
  });
});
