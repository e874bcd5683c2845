// Expansion streams: a huge grid hands out its first runs without being expanded whole, and the
// stream gives exactly the runs, ids, names and order of expanding everything at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countRuns, gridName, planSweep, runId, type RunSpec } from '../../src/sweep-file/expand.js';
import { draw } from '../../src/sweep-file/search.js';
import { parseSweep, type SweepSpec } from '../../src/sweep-file/load.js';

const values = (n: number): string => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;

/** The plan expanded eagerly, as before streaming: every point into one map by id. */
function eagerRuns(spec: SweepSpec): RunSpec[] {
  const points: { name: string; params: Record<string, unknown>; config: boolean }[] = [];
  const grid = spec.search.strategy === 'tpe' ? undefined : spec.grid;
  let gridPoints: Record<string, unknown>[] = [];
  if (grid !== undefined && spec.search.strategy === 'random') {
    gridPoints = draw(grid, spec.search.samples ?? 0, spec.search.seed);
  } else if (grid !== undefined) {
    gridPoints = [{}];
    for (const [key, list] of Object.entries(grid as Record<string, unknown[]>))
      gridPoints = gridPoints.flatMap((point) => list.map((value) => ({ ...point, [key]: value })));
  }
  for (const point of gridPoints)
    points.push({ name: gridName(point), params: { ...spec.base, ...point }, config: false });
  for (const config of spec.configs)
    points.push({ name: config.name, params: { ...spec.base, ...config.params }, config: true });
  const runs = new Map<string, RunSpec>();
  for (const point of points) {
    for (const seed of spec.seeds ?? [undefined]) {
      const params = seed === undefined ? point.params : { ...point.params, seed };
      const id = runId(params);
      const name = (spec.seeds?.length ?? 0) > 1 ? `${point.name}_s${seed}` : point.name;
      const existing = runs.get(id);
      if (existing !== undefined) {
        if (point.config) runs.set(id, { ...existing, name, origin: 'config' });
        continue;
      }
      runs.set(id, { id, name, params, origin: point.config ? 'config' : 'grid', ordinal: runs.size });
    }
  }
  return [...runs.values()];
}

describe('sweep file: expansion streams', () => {
  it('a grid of 10^6 points yields its first runs without expanding the rest', () => {
    const spec = parseSweep(
      `name: huge\ntrainer: builtin\ngrid: { a: ${values(100)}, b: ${values(100)}, c: ${values(100)} }\n`,
      'huge.yaml',
    );
    assert.equal(countRuns(spec), 1_000_000);
    assert.throws(() => planSweep(spec), /1000000 runs, more than 10000; pass --force/);
    const before = process.memoryUsage().heapUsed;
    const plan = planSweep(spec, { force: true });
    const first: RunSpec[] = [];
    for (const run of plan.runs()) {
      first.push(run);
      if (first.length === 10) break;
    }
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(plan.size, 1_000_000);
    assert.equal(plan.longestName(), 'a=10_b=10_c=10'.length);
    assert.deepEqual(
      first.map((r) => [r.name, r.ordinal, r.origin]),
      Array.from({ length: 10 }, (_, i) => [`a=0_b=0_c=${i}`, i, 'grid']),
    );
    assert.deepEqual(first[3]!.params, { a: 0, b: 0, c: 3 });
    assert.equal(first[3]!.id, runId({ a: 0, b: 0, c: 3 }));
    // A million run specs take hundreds of MB; the plan and ten runs, a few.
    assert.ok(grown < 32 * 1024 * 1024, `the heap grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    // The last run is the last point, reached by the stream (counted, not kept).
    let count = 0;
    let last: RunSpec | undefined;
    for (const run of plan.runs()) {
      count++;
      last = run;
    }
    assert.equal(count, 1_000_000);
    assert.deepEqual([last?.name, last?.ordinal], ['a=99_b=99_c=99', 999_999]);
  });

  it('gives the same runs, ids, names and order as expanding everything at once', () => {
    const specs = [
      // Configurations equal to grid points (named after the configuration, in the grid's place), seeds.
      `name: s\ntrainer: builtin\nbase: { epochs: 1 }\ngrid: { lr: [0.1, 0.2], batch_size: [8, 16] }\nseeds: [1, 2]\nconfigs:\n  - { name: mine, lr: 0.2, batch_size: 8 }\n  - { name: extra, lr: 0.5, batch_size: 8 }\n`,
      // A repeated seed: each run once.
      `name: s\ntrainer: builtin\ngrid: { lr: [0.1, 0.2] }\nseeds: [3, 3, 4]\nconfigs: [{ name: c, lr: 0.1 }]\n`,
      // Random draws from short lists repeat: each run once, the first draw's name.
      `name: s\ntrainer: builtin\ngrid: { lr: [0.1, 0.2], batch_size: [8, 16] }\nsearch: { strategy: random, samples: 12, seed: 5 }\nconfigs: [{ name: c, lr: 0.2, batch_size: 16 }]\n`,
      `name: s\ntrainer: builtin\nconfigs: [{ name: a, lr: 0.1 }, { name: b, lr: 0.2 }]\nseeds: [0]\n`,
      // No configuration in the grid: the name column is measured without walking the plan.
      `name: s\ntrainer: builtin\ngrid: { lr: [0.1, 0.25, 1e-7], warmup: [5, 100], opt: [adam, sgd] }\nseeds: [1, 22]\nconfigs: [{ name: c, lr: 0.3 }]\n`,
    ];
    for (const text of specs) {
      const spec = parseSweep(text, 's.yaml');
      const plan = planSweep(spec);
      const streamed = [...plan.runs()];
      assert.deepEqual(streamed, eagerRuns(spec), text);
      assert.equal(plan.size, streamed.length);
      assert.equal(plan.longestName(), Math.max(...streamed.map((r) => r.name.length)), text);
      for (const run of streamed) assert.ok(plan.includes(run.id, run.params), `${run.name} is in the plan`);
    }
    const merged = [...planSweep(parseSweep(specs[0]!, 's.yaml')).runs()];
    assert.deepEqual(
      merged.map((r) => r.name),
      [
        'lr0.1_bs8_s1',
        'lr0.1_bs8_s2',
        'lr0.1_bs16_s1',
        'lr0.1_bs16_s2',
        'mine_s1',
        'mine_s2',
        'lr0.2_bs16_s1',
        'lr0.2_bs16_s2',
        'extra_s1',
        'extra_s2',
      ],
    );
  });

  it('tells a run of the plan from one of an earlier spec without expanding', () => {
    const plan = planSweep(
      parseSweep(`name: s\ntrainer: builtin\nbase: { epochs: 1 }\ngrid: { lr: [0.1, 0.2] }\nseeds: [1, 2]\n`, 's.yaml'),
    );
    const inPlan = { epochs: 1, lr: 0.2, seed: 2 };
    assert.ok(plan.includes(runId(inPlan), inPlan));
    for (const other of [
      { epochs: 1, lr: 0.3, seed: 2 },
      { epochs: 1, lr: 0.2, seed: 3 },
      { epochs: 2, lr: 0.2, seed: 2 },
      { epochs: 1, lr: 0.2 },
      { epochs: 1, lr: 0.2, seed: 2, warmup: 10 },
    ])
      assert.equal(plan.includes(runId(other), other), false, JSON.stringify(other));
  });

  it('refuses a grid list whose values are equal up to key order (they would be one run)', () => {
    assert.throws(
      () => parseSweep(`name: s\ntrainer: builtin\ngrid: { opt: [{ a: 1, b: 2 }, { b: 2, a: 1 }] }\n`, 's.yaml'),
      /grid\.opt.*the list repeats a value/s,
    );
  });
});
