import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildJob, runPaths } from '../../src/plan/job.js';
import { expandSweep } from '../../src/sweep-file/expand.js';
import { parseSweep } from '../../src/sweep-file/load.js';
import { paramsAsFlags, parseTemplate, substitute } from '../../src/sweep-file/placeholders.js';

const context = { nodePath: '/usr/bin/node', home: '/home/u', specDir: '/work/sweeps' };

describe('placeholders', () => {
  it('substitutes each argv element on its own: hostile values stay one argument', () => {
    const hostile = ['; rm -rf /', 'a b  c', `it's "quoted"`, 'line\nbreak', '$(whoami)', '{notaplaceholder}'];
    for (const value of hostile) {
      assert.equal(substitute('{v}', { v: value }), value);
      assert.equal(substitute('--x={v}', { v: value }), `--x=${value}`);
    }
    assert.equal(substitute('{{literal}} {a}', { a: 1e-6 }), '{literal} 0.000001');
    assert.equal(substitute('{o}', { o: { a: [1] } }), '{"a":[1]}');
    assert.throws(() => substitute('{nope}', {}), /unknown placeholder \{nope\}/);
    assert.match(String(parseTemplate('a{b')), /not a placeholder/);
    assert.match(String(parseTemplate('a}b')), /lone "}"/);
  });

  it('builds the argv, env and cwd of a command trainer', () => {
    const spec = parseSweep(
      `name: s
trainer:
  command: [python3, train.py, --lr, "{lr}", --name, "{run_id}", --note, "{note}", --out, "{run_dir}/x"]
  cwd: ~/code
  env: { TAG: "run-{name}" }
  args: flags
configs:
  - { name: evil, lr: 0.001, batch_size: 8, note: "; rm -rf / && echo 'pwned'", use_amp: true, skip: false }
`,
      '/work/sweeps/s.yaml',
    );
    const [run] = expandSweep(spec);
    const { job } = buildJob(spec, run!, runPaths('/runs/s/abc'), 2, { ...context, pythonPath: '/opt/py' });
    assert.deepEqual(job.argv, [
      'python3',
      'train.py',
      '--lr',
      '0.001',
      '--name',
      run!.id,
      '--note',
      "; rm -rf / && echo 'pwned'",
      '--out',
      '/runs/s/abc/x',
      '--lr',
      '0.001',
      '--batch-size',
      '8',
      '--note',
      "; rm -rf / && echo 'pwned'",
      '--use-amp',
    ]);
    assert.equal(job.cwd, '/home/u/code');
    assert.equal(job.env.TAG, 'run-evil');
    assert.equal(job.env.SWEEP_ATTEMPT, '2');
    assert.match(job.env.PYTHONPATH!, /\/python:\/opt\/py$/);
    assert.deepEqual(paramsAsFlags({ weight_decay: 0.1, tags: ['a', 'b'], off: null }), [
      '--weight-decay',
      '0.1',
      '--tags',
      'a',
      'b',
    ]);
  });

  it('an unknown placeholder is a spec error before anything runs', () => {
    const spec = parseSweep(
      'name: s\ntrainer: { command: [x, "{lr}", "{typo}"] }\ngrid: { lr: [1, 2] }\nconfigs: [{ name: c, batch_size: 4 }]\n',
      's.yaml',
    );
    assert.throws(
      () => expandSweep(spec),
      (error: Error) => {
        assert.match(error.message, /trainer\.command\[2\]: unknown placeholder \{typo\}: no run has parameter "typo"/);
        assert.match(
          error.message,
          /trainer\.command\[1\]: unknown placeholder \{lr\}: 1 run\(s\) \(e\.g\. "c"\) have no parameter "lr"/,
        );
        return true;
      },
    );
    assert.throws(
      () => parseSweep('name: s\ntrainer: { command: [x, "{oops"] }\ngrid: { lr: [1] }\n', 's.yaml'),
      /trainer\.command\[1\] \(line 2\): "\{oops" is not a placeholder/,
    );
  });

  it('regex patterns are checked: they compile and have the groups they name', () => {
    assert.throws(
      () =>
        parseSweep(
          'name: s\ntrainer: { command: [x], metrics: regex, patterns: [{ regex: "loss=(?<loss>[0-9.]+", metrics: { train/loss: loss } }] }\ngrid: { lr: [1] }\n',
          's.yaml',
        ),
      /trainer\.patterns\[0\]\.regex.*not a valid regular expression/,
    );
    assert.throws(
      () =>
        parseSweep(
          'name: s\ntrainer: { command: [x], metrics: regex, patterns: [{ regex: "loss=(?<loss>[0-9.]+)", metrics: { train/loss: los }, step: st }] }\ngrid: { lr: [1] }\n',
          's.yaml',
        ),
      /no group named "los"[\s\S]*no group named "st"/,
    );
    assert.throws(
      () => parseSweep('name: s\ntrainer: { command: [x], metrics: regex }\ngrid: { lr: [1] }\n', 's.yaml'),
      /"regex" needs "patterns"/,
    );
    assert.throws(
      () => parseSweep('name: s\ntrainer: { command: [x], metric: jsonl }\ngrid: { lr: [1] }\n', 's.yaml'),
      /trainer\.metric \(line 2\): unknown key "metric"/,
    );
  });
});
