import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { countRuns, expandSweep, runId } from '../../src/sweep-file/expand.js';
import { parseSweep } from '../../src/sweep-file/load.js';
import { parseDuration } from '../../src/sweep-file/duration.js';

const ISSUE_EXAMPLE = `
name: clip-coco-lr-bs-warmup
trainer: builtin
base: { epochs: 10, weight_decay: 0.1 }
grid:
  batch_size: [64, 256]
  lr: [1e-6, 5e-6]
  warmup: [10000, 20000]
configs:
  - { name: seed-original, batch_size: 256, lr: 5e-6, warmup: 10000 }
  - { name: best-practice, batch_size: 64, lr: 1e-6, warmup: 20000, weight_decay: 0.2 }
seeds: [0, 1]
resources: { gpus: auto, runs_per_gpu: 1, cpu_slots: 2 }
retries: 1
timeout: 2h
`;

function problemsOf(text: string): string[] {
  try {
    parseSweep(text, 'bad.yaml');
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
    assert.equal(error.file, 'bad.yaml');
    return [...error.problems];
  }
  assert.fail('the spec was accepted');
}

describe('sweep file: valid input', () => {
  it('expands the grid, the configurations and the seeds', () => {
    const spec = parseSweep(ISSUE_EXAMPLE, 'grid.yaml');
    assert.equal(spec.timeoutMs, 2 * 3600 * 1000);
    assert.equal(spec.retries, 1);
    const runs = expandSweep(spec);
    // 2x2x2 grid points; seed-original equals the grid point bs256/lr5e-6/wu10000 and is merged
    // into it; best-practice differs (weight decay): 8 + 1 configurations, twice each.
    assert.equal(runs.length, 18);
    assert.equal(new Set(runs.map((r) => r.id)).size, 18);
    const original = runs.filter((r) => r.name.startsWith('seed-original'));
    assert.deepEqual(
      original.map((r) => r.name),
      ['seed-original_s0', 'seed-original_s1'],
    );
    assert.deepEqual(original[0]!.params, {
      epochs: 10,
      weight_decay: 0.1,
      batch_size: 256,
      lr: 5e-6,
      warmup: 10000,
      seed: 0,
    });
    const best = runs.find((r) => r.name === 'best-practice_s1')!;
    assert.deepEqual(best.params, { epochs: 10, weight_decay: 0.2, batch_size: 64, lr: 1e-6, warmup: 20000, seed: 1 });
    assert.equal(runs[0]!.name, 'bs64_lr1e-6_wu10000_s0');
    assert.deepEqual(
      runs.map((r) => r.ordinal),
      runs.map((_, i) => i),
    );
  });

  it('gives the same ids for the same file, whatever the key order', () => {
    const a = expandSweep(parseSweep(ISSUE_EXAMPLE, 'a.yaml')).map((r) => r.id);
    const b = expandSweep(parseSweep(ISSUE_EXAMPLE, 'b.yaml')).map((r) => r.id);
    assert.deepEqual(a, b);
    assert.equal(runId({ lr: 1, batch_size: 2 }), runId({ batch_size: 2, lr: 1 }));
    assert.notEqual(runId({ lr: 1, batch_size: 2 }), runId({ lr: 1, batch_size: 3 }));
    assert.match(a[0]!, /^[0-9a-f]{12}$/);
  });

  it('accepts percentages for warmup and command trainers', () => {
    const spec = parseSweep(
      `name: x\ntrainer: { command: [python3, train.py], env: { A: "1" } }\ngrid: { warmup: ["10%", 500] }\n`,
      'x.yaml',
    );
    assert.deepEqual(
      expandSweep(spec).map((r) => r.params.warmup),
      ['10%', 500],
    );
  });

  it('refuses a plan above the limit unless forced, without expanding it', () => {
    const huge = `name: huge\ntrainer: builtin\ngrid:\n  a: [${Array.from({ length: 200 }, (_, i) => i).join(',')}]\n  b: [${Array.from({ length: 200 }, (_, i) => i).join(',')}]\n`;
    const spec = parseSweep(huge, 'huge.yaml');
    assert.equal(countRuns(spec), 40_000);
    assert.throws(() => expandSweep(spec), /40000 runs, more than 10000; pass --force/);
    assert.equal(expandSweep(spec, { force: true }).length, 40_000);
  });

  it('parses durations', () => {
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration(5), 5000);
    assert.equal(parseDuration('soon'), null);
    assert.equal(parseDuration('5x'), null);
  });
});

describe('sweep file: bad input names the file, the key path and what was expected', () => {
  it('malformed YAML', () => {
    const [problem] = problemsOf('name: x\ngrid: { lr: [1, 2\n');
    assert.match(problem!, /^line \d+, column \d+: malformed YAML/);
  });

  it('unknown keys, at every level, with the line', () => {
    const problems = problemsOf('name: x\ntrainer: builtin\ngrid: { lr: [1] }\nresource: {}\nresources: { gpu: 1 }\n');
    assert.ok(
      problems.some((p) => /^resource \(line 4\): unknown key "resource"/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /^resources\.gpu \(line 5\): unknown key "gpu".*runs_per_gpu/.test(p)),
      problems.join('\n'),
    );
  });

  it('wrong types and non-positive values, every one reported', () => {
    const problems = problemsOf(
      'name: x\ntrainer: builtin\nbase: { batch_size: 0 }\ngrid:\n  lr: [1e-4, -1]\n  warmup: [ten]\nretries: many\nresources: { gpus: some }\n',
    );
    const text = problems.join('\n');
    assert.match(text, /retries \(line 7\): expected number, got "many"/);
    assert.match(text, /resources\.gpus \(line 8\): expected "auto", "none" or a list of GPU indices, got "some"/);
    // Cross-field checks run once the shape is right; fix the shape and they appear.
    const more = problemsOf(
      'name: x\ntrainer: builtin\nbase: { batch_size: 0 }\ngrid:\n  lr: [1e-4, -1]\n  warmup: [ten, "150%"]\n',
    ).join('\n');
    assert.match(more, /base\.batch_size \(line 3\): expected a positive integer, got 0/);
    assert.match(more, /grid\.lr\[1\] \(line 5\): expected a positive number, got -1/);
    assert.match(
      more,
      /grid\.warmup\[0\] \(line 6\): expected a number of steps >= 0 or a percentage such as "10%", got "ten"/,
    );
    assert.match(more, /grid\.warmup\[1\]/);
  });

  it('an empty grid, and no runs at all', () => {
    assert.match(
      problemsOf('name: x\ntrainer: builtin\ngrid: { lr: [] }\n').join('\n'),
      /grid\.lr \(line 3\): expected a non-empty list, got \[\]/,
    );
    assert.match(
      problemsOf('name: x\ntrainer: builtin\ngrid: {}\n').join('\n'),
      /grid \(line 3\): expected at least one parameter/,
    );
    assert.match(problemsOf('name: x\ntrainer: builtin\n').join('\n'), /the sweep has no runs/);
  });

  it('duplicate configuration names', () => {
    const problems = problemsOf(
      'name: x\ntrainer: builtin\nconfigs:\n  - { name: a, lr: 1 }\n  - { name: a, lr: 2 }\n',
    );
    assert.match(
      problems.join('\n'),
      /configs\[1\]\.name \(line 5\): duplicate configuration name "a" \(also configs\[0\]\)/,
    );
  });

  it('two configurations with the same parameters', () => {
    const spec = parseSweep(
      'name: x\ntrainer: builtin\nconfigs:\n  - { name: a, lr: 1 }\n  - { name: b, lr: 1 }\n',
      'twins.yaml',
    );
    assert.throws(
      () => expandSweep(spec),
      /twins\.yaml: configs\[1\] \("b"\) has the same parameters as configs\[0\] \("a"\)/,
    );
  });

  it('a sweep name that would escape runs/', () => {
    for (const name of ['../x', 'a/b', '.hidden', '']) {
      const problems = problemsOf(`name: ${JSON.stringify(name)}\ntrainer: builtin\ngrid: { lr: [1] }\n`);
      assert.match(
        problems.join('\n'),
        /^name \(line 1\): expected a name of 1 to 100 characters: letters, digits/m,
        name,
      );
    }
  });

  it('a sweep name over 100 characters says where the limit is', () => {
    const problems = problemsOf(`name: ${'a'.repeat(101)}\ntrainer: builtin\ngrid: { lr: [1] }\n`);
    assert.match(problems.join('\n'), /^name \(line 1\): expected a name of 1 to 100 characters/m);
  });

  it('a YAML alias bomb ("billion laughs") is bad input naming the file', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const text = `name: bomb\ntrainer: builtin\ngrid: { lr: [1] }\n${levels.join('\n')}\n`;
    assert.throws(
      () => parseSweep(text, '/x/bomb.yaml'),
      (error: unknown) =>
        error instanceof SpecError &&
        error.code === 'SPEC_INVALID' &&
        /^\/x\/bomb\.yaml: its aliases \(\*name\) expand/.test(error.message) &&
        error.cause instanceof Error,
    );
  });

  it('a bad trainer, a bad timeout, seeds given twice', () => {
    const text = problemsOf('name: x\ntrainer: { command: [] }\ngrid: { lr: [1] }\n').join('\n');
    assert.match(text, /trainer/);
    assert.match(
      problemsOf('name: x\ntrainer: builtin\ngrid: { lr: [1] }\ntimeout: soon\n').join('\n'),
      /timeout \(line 4\): expected a duration/,
    );
    assert.match(
      problemsOf('name: x\ntrainer: builtin\nbase: { seed: 1 }\nseeds: [0]\ngrid: { lr: [1] }\n').join('\n'),
      /base\.seed.*not both/,
    );
  });

  it('not a mapping at all', () => {
    assert.match(problemsOf('- just\n- a list\n')[0]!, /expected a YAML mapping/);
  });
});
