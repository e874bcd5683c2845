// ASHA's options for few runs at a rung (few_runs) and the value a run brings there (rung_value).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earlyTerminationSchema } from '../../src/prune/config.js';
import { decidePruning, type RunHistory } from '../../src/prune/decide.js';
import { parseSweep } from '../../src/sweep-file/load.js';

/** A run with one point per step from `values` (index = step), recorded from `start` on. */
function run(id: string, values: number[], start: number, running = true): RunHistory {
  return { id, running, warmupSteps: 0, points: values.map((value, step) => ({ step, value, time: start + step })) };
}

const steady = (value: number, steps: number, dips: Record<number, number> = {}): number[] =>
  Array.from({ length: steps }, (_, step) => dips[step] ?? value);

const asha = (over: Record<string, unknown> = {}) =>
  earlyTerminationSchema.parse({ type: 'asha', metric: 'val/loss', mode: 'min', grace: 10, reduction: 3, ...over });
const stopped = (decisions: ReturnType<typeof decidePruning>) =>
  decisions
    .filter((d) => d.action === 'stop')
    .map((d) => d.id)
    .sort();

describe('ASHA with few runs at a rung', () => {
  it('defaults to letting them continue, and to the value at the rung', () => {
    const config = asha();
    assert.equal(config.type === 'asha' && config.few_runs, 'continue');
    assert.equal(config.type === 'asha' && config.rung_value, 'latest');
  });

  it('few_runs best: the second run to reach a rung continues only if it beats the first', () => {
    const first = run('first', steady(1, 20), 0);
    assert.deepEqual(stopped(decidePruning(asha({ few_runs: 'best' }), [first, run('worse', steady(5, 20), 100)])), [
      'worse',
    ]);
    assert.deepEqual(
      stopped(decidePruning(asha({ few_runs: 'best' }), [first, run('better', steady(0.5, 20), 100)])),
      [],
    );
    assert.deepEqual(
      stopped(decidePruning(asha({ few_runs: 'continue' }), [first, run('worse', steady(5, 20), 100)])),
      [],
    );
  });

  it('few_runs best: the first run at a rung always continues, and the reason says why the second stopped', () => {
    assert.deepEqual(stopped(decidePruning(asha({ few_runs: 'best' }), [run('alone', steady(9, 40), 0)])), []);
    const decision = decidePruning(asha({ few_runs: 'best' }), [
      run('first', steady(1, 20), 0, false),
      run('worse', steady(5, 20), 100),
    ])[0]!;
    assert.equal(decision.action, 'stop');
    if (decision.action === 'stop') {
      assert.equal(decision.peers, 2);
      assert.equal(decision.cutoff, 1);
      assert.match(
        decision.reason,
        /asha rung 0 \(10 steps after warmup\): val\/loss 5 is not the best of the 2 runs there so far \(fewer than 3; cutoff 1\)/,
      );
    }
  });

  it('few_runs best in mode max: ties continue', () => {
    const config = asha({ metric: 'val/i2t_R@1', mode: 'max', few_runs: 'best' });
    assert.deepEqual(
      stopped(
        decidePruning(config, [
          run('a', steady(0.5, 20), 0),
          run('tie', steady(0.5, 20), 100),
          run('low', steady(0.4, 20), 200),
        ]),
      ),
      ['low'],
    );
  });

  it('with reduction runs or more there, both keep the best 1/reduction; they differ only below it', () => {
    const runs = [
      run('a', steady(1, 20), 0),
      run('b', steady(2, 20), 100),
      run('c', steady(3, 20), 200),
      run('d', steady(1.5, 20), 300),
    ];
    // c is third of three and d second of four (keep floor(4/3) = 1): both stop either way. b met
    // only a there: it continues under 'continue' and stops under 'best'.
    assert.deepEqual(stopped(decidePruning(asha({ few_runs: 'continue' }), runs)), ['c', 'd']);
    assert.deepEqual(stopped(decidePruning(asha({ few_runs: 'best' }), runs)), ['b', 'c', 'd']);
  });
});

describe('ASHA rung_value', () => {
  // a and b reach rung 0 (step 10) first with 2.0 and 2.5; a dips to 0.5 at step 15, after its
  // rung. x comes last: 3 at step 10, but 1.0 at step 5.
  const runs = [
    run('a', steady(2, 20, { 15: 0.5 }), 0, false),
    run('b', steady(2.5, 20), 100, false),
    run('x', steady(3, 12, { 5: 1 }), 200),
  ];

  it('latest: x is judged by its value at the rung, the worst of three', () => {
    assert.deepEqual(stopped(decidePruning(asha({ rung_value: 'latest' }), runs)), ['x']);
  });

  it('best: x brings its best so far (1.0), and a only what it had reached at the rung (2.0, not its later 0.5)', () => {
    assert.deepEqual(stopped(decidePruning(asha({ rung_value: 'best' }), runs)), []);
    // Had a's later dip counted, x (1.0) would have been outside the best third above. A run whose
    // best so far is 2.2 stops, and the decision carries that value.
    const worse = [...runs.slice(0, 2), run('y', steady(3, 12, { 5: 2.2 }), 200)];
    const decision = decidePruning(asha({ rung_value: 'best' }), worse).find((d) => d.id === 'y')!;
    assert.equal(decision.action, 'stop');
    if (decision.action === 'stop') {
      assert.equal(decision.value, 2.2);
      assert.equal(decision.cutoff, 2);
      assert.match(decision.reason, /: best val\/loss so far 2\.2 is outside the best 1\/3 of 3 runs \(cutoff 2\)$/);
    }
  });

  it('a sweep file with a value it does not know is rejected, naming the key and the choices', () => {
    for (const [key, choices] of [
      ['few_runs', /"continue"\|"best"/],
      ['rung_value', /"latest"\|"best"/],
    ] as const) {
      const text = `name: x\ntrainer: builtin\nbase: { steps: 10 }\nearly_termination: { type: asha, metric: val/loss, mode: min, grace: 10, ${key}: sometimes }\n`;
      assert.throws(
        () => parseSweep(text, 'sweep.yaml'),
        (e: Error) =>
          e.message.includes(`early_termination.${key}`) &&
          choices.test(e.message) &&
          /got "sometimes"/.test(e.message),
      );
    }
  });
});
