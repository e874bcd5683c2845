import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earlyTerminationSchema } from '../../src/prune/config.js';
import { decidePruning, type RunHistory } from '../../src/prune/decide.js';
import { runWarmupSteps } from '../../src/orchestrator/pruning.js';

/** val/loss of a run that levels off at `quality`, poor during its warmup; one point per step. */
function history(
  id: string,
  quality: number,
  steps: number,
  options: { warmup?: number; start?: number; running?: boolean } = {},
): RunHistory {
  const warmup = options.warmup ?? 0;
  const start = options.start ?? 0;
  return {
    id,
    running: options.running ?? true,
    warmupSteps: warmup,
    points: Array.from({ length: steps }, (_, step) => ({
      step,
      value: quality + 2 / (1 + Math.max(0, step - warmup)) + (step < warmup ? 5 : 0),
      time: start + step,
    })),
  };
}

const asha = (over: Record<string, unknown> = {}) =>
  earlyTerminationSchema.parse({ type: 'asha', metric: 'val/loss', mode: 'min', grace: 10, reduction: 3, ...over });
const stopped = (decisions: ReturnType<typeof decidePruning>) =>
  decisions
    .filter((d) => d.action === 'stop')
    .map((d) => d.id)
    .sort();

describe('early termination decisions', () => {
  it('ASHA keeps the best third at each rung, judged against the runs that got there first', () => {
    // a, b, c reached rung 0 (10 steps) in that order. b met only a there (2 < 3 runs: too few
    // to cut), and at rung 1 only a again; c is the worst of three at rung 0: stopped.
    const runs = [
      history('a', 1, 40, { start: 0 }),
      history('b', 2, 40, { start: 100 }),
      history('c', 3, 20, { start: 200 }),
    ];
    const decisions = decidePruning(asha(), runs);
    assert.deepEqual(stopped(decisions), ['c']);
    const c = decisions.find((d) => d.id === 'c')!;
    assert.equal(c.action, 'stop');
    if (c.action === 'stop') {
      assert.equal(c.rung, 0);
      assert.equal(c.peers, 3);
      assert.match(c.reason, /asha rung 0 \(10 steps after warmup\): val\/loss .* outside the best 1\/3 of 3 runs/);
    }
  });

  it('too few runs at a rung: everyone continues', () => {
    assert.deepEqual(stopped(decidePruning(asha(), [history('a', 1, 40), history('b', 5, 40, { start: 100 })])), []);
  });

  it('a run that is not running is never stopped, but counts as a peer', () => {
    const runs = [
      history('a', 1, 40, { running: false }),
      history('b', 2, 40, { start: 100, running: false }),
      history('c', 3, 20, { start: 200 }),
    ];
    assert.deepEqual(stopped(decidePruning(asha(), runs)), ['c']);
  });

  it('a long-warmup run survives its warmup when warmup-aware, and is cut while warming up otherwise', () => {
    const runs = [
      history('a', 1, 60),
      history('b', 1.2, 60, { start: 100 }),
      history('slow', 0.5, 45, { warmup: 30, start: 200 }),
    ];
    // Warmup-aware: at 10 steps after its warmup the slow run is the best of the three.
    assert.deepEqual(stopped(decidePruning(asha(), runs)).includes('slow'), false);
    // Counting from step 0, its step-10 value is inside its warmup (+5): it would be pruned.
    assert.ok(stopped(decidePruning(asha({ warmup_aware: false }), runs)).includes('slow'));
    // While its warmup is unknown (a percentage before the total steps are known), it is not judged.
    const unknown = { ...runs[2]!, warmupSteps: null };
    assert.deepEqual(
      stopped(decidePruning(asha({ warmup_aware: true }), [runs[0]!, runs[1]!, unknown])).includes('slow'),
      false,
    );
  });

  it('mode max, and NaN ranks last', () => {
    const up = (id: string, level: number, start: number): RunHistory => ({
      id,
      running: true,
      warmupSteps: 0,
      points: Array.from({ length: 30 }, (_, step) => ({
        step,
        value: step === 12 && level < 0 ? NaN : level * (1 - 1 / (1 + step)),
        time: start + step,
      })),
    });
    const config = earlyTerminationSchema.parse({
      type: 'asha',
      metric: 'val/i2t_R@1',
      mode: 'max',
      grace: 10,
      reduction: 2,
    });
    assert.deepEqual(stopped(decidePruning(config, [up('good', 0.9, 0), up('bad', 0.3, 100)])), ['bad']);
  });

  it('the median rule stops a run worse than the median of the others at the same step', () => {
    const config = earlyTerminationSchema.parse({
      type: 'median',
      metric: 'val/loss',
      mode: 'min',
      grace: 5,
      min_runs: 3,
    });
    const done = [
      history('a', 1, 40, { running: false }),
      history('b', 2, 40, { running: false }),
      history('c', 3, 40, { running: false }),
    ];
    assert.deepEqual(stopped(decidePruning(config, [...done, history('worse', 2.5, 15)])), ['worse']);
    assert.deepEqual(stopped(decidePruning(config, [...done, history('better', 1.5, 15)])), []);
    assert.deepEqual(
      stopped(decidePruning(config, [...done, history('early', 9, 4)])),
      [],
      'not judged before the grace period',
    );
    assert.deepEqual(
      stopped(decidePruning(config, [done[0]!, done[1]!, history('x', 9, 15)])),
      [],
      'fewer than min_runs others',
    );
  });

  it('resolves warmups given as steps or as a share of the total', () => {
    assert.equal(runWarmupSteps(500, null), 500);
    assert.equal(runWarmupSteps('10%', 4000), 400);
    assert.equal(runWarmupSteps('10%', null), null);
    assert.equal(runWarmupSteps(undefined, null), 0);
  });
});
