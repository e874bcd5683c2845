// The replay's simulated time (bench/prune/simulate.ts): slots, stop latency, what is charged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earlyTerminationSchema } from '../../src/prune/config.js';
import { floorSpent, simulate, winner, type RecordedRun } from '../../bench/prune/simulate.js';

/** A run of `duration` seconds recording one point a second (step = second), value from `valueAt`. */
function recorded(id: string, duration: number, valueAt: (step: number) => number): RecordedRun {
  return {
    id,
    name: id,
    duration,
    warmup: 0,
    points: Array.from({ length: duration }, (_, i) => ({ step: i + 1, value: valueAt(i + 1), at: i + 1 })),
  };
}

const asha = (over: Record<string, unknown> = {}) =>
  earlyTerminationSchema.parse({
    type: 'asha',
    metric: 'val/loss',
    mode: 'min',
    grace: 5,
    reduction: 3,
    few_runs: 'best',
    ...over,
  });

describe('replay simulation', () => {
  it('without a rule: runs start in plan order on free slots and are charged in full', () => {
    const runs = [recorded('a', 10, () => 1), recorded('b', 20, () => 2), recorded('c', 5, () => 3)];
    const sim = simulate(runs, null, { slots: 2, stopLatency: 1, mode: 'min' });
    assert.deepEqual(
      sim.runs.map((r) => [r.id, r.start, r.spent]),
      [
        ['a', 0, 10],
        ['b', 0, 20],
        ['c', 10, 5],
      ],
    );
    assert.equal(sim.spent, 35);
    assert.equal(sim.makespan, 20);
    assert.equal(winner(sim, 'min', 'finished')!.id, 'a');
  });

  it('a stopped run holds its slot for the stop latency, and the next run starts when it exits', () => {
    // One slot: a alone at every rung; b is worse than a at step 5 (15 s into the sweep): stopped.
    const runs = [recorded('a', 10, () => 1), recorded('b', 10, () => 5), recorded('c', 10, () => 0.5)];
    const sim = simulate(runs, asha(), { slots: 1, stopLatency: 1, mode: 'min' });
    const b = sim.runs.find((r) => r.id === 'b')!;
    assert.equal(b.stop?.at, 15);
    assert.equal(b.stop?.decision.rung, 0);
    assert.equal(b.spent, 6);
    assert.equal(sim.runs.find((r) => r.id === 'c')!.start, 16);
    assert.equal(sim.spent, 26);
    const instant = simulate(runs, asha(), { slots: 1, stopLatency: 0, mode: 'min' });
    assert.equal(instant.spent, 25);
    // The stop latency never charges past the run's own end.
    const late = simulate(runs, asha(), { slots: 1, stopLatency: 100, mode: 'min' });
    assert.equal(late.runs.find((r) => r.id === 'b')!.spent, 10);
  });

  it("a pruned run's best counts as reported, not among the finished runs", () => {
    // b dips to 0.1 at step 3, then is 5 at its rung (step 5): stopped, having recorded the best value.
    const runs = [
      recorded('a', 10, () => 1),
      recorded('b', 10, (s) => (s === 3 ? 0.1 : 5)),
      recorded('c', 10, () => 0.5),
    ];
    const sim = simulate(runs, asha(), { slots: 1, stopLatency: 0, mode: 'min' });
    assert.ok(sim.runs.find((r) => r.id === 'b')!.stop);
    assert.equal(winner(sim, 'min', 'reported')!.id, 'b');
    assert.equal(winner(sim, 'min', 'finished')!.id, 'c');
    // Judged by its best so far (0.1), b is the best at its rung and finishes.
    const byBest = simulate(runs, asha({ rung_value: 'best' }), { slots: 1, stopLatency: 0, mode: 'min' });
    assert.equal(byBest.runs.find((r) => r.id === 'b')!.stop, null);
  });

  it('the floor: every run but the kept one stops at its first point past grace', () => {
    const runs = [
      recorded('a', 10, () => 1),
      recorded('b', 10, () => 5),
      { ...recorded('c', 10, () => 0.5), warmup: 3 },
    ];
    assert.equal(floorSpent(runs, 5, true, 'c', 1), 6 + 6 + 10);
    // c's first point 5 steps after its warmup of 3 is step 8, at 8 s.
    assert.equal(floorSpent(runs, 5, true, 'a', 1), 10 + 6 + 9);
    assert.equal(floorSpent(runs, 5, false, 'a', 1), 10 + 6 + 6);
  });

  it('rejects slots and latencies it cannot simulate', () => {
    assert.throws(
      () => simulate([], null, { slots: 0, stopLatency: 0, mode: 'min' }),
      /slots: expected a positive integer, got 0/,
    );
    assert.throws(
      () => simulate([], null, { slots: 1, stopLatency: -1, mode: 'min' }),
      /stop latency: expected seconds >= 0, got -1/,
    );
  });
});
