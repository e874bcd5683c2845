// A TPE search in the sweep file: what it needs, refused before anything runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { countRuns, expandSweep } from '../../src/sweep-file/expand.js';
import { loadSweepFile, parseSweep } from '../../src/sweep-file/load.js';
import { ROOT } from '../helpers.js';

const problems = (text: string): string[] => {
  try {
    parseSweep(text, 'sweep.yaml');
  } catch (error) {
    assert.ok(error instanceof SpecError);
    return [...error.problems];
  }
  return [];
};

describe('search: tpe in the sweep file', () => {
  it('is accepted with distributions and lists, and plans only the named configurations', () => {
    const spec = parseSweep(
      `name: t
trainer: builtin
base: { epochs: 1 }
grid: { lr: { loguniform: [1e-6, 1e-3] }, batch_size: [32, 64] }
configs: [{ name: original, lr: 5e-6, batch_size: 64 }]
search: { strategy: tpe, samples: 20, metric: val/i2t_R@1, mode: max }
`,
      'sweep.yaml',
    );
    assert.deepEqual(spec.search, {
      strategy: 'tpe',
      samples: 20,
      seed: 0,
      metric: 'val/i2t_R@1',
      mode: 'max',
      startup: 10,
      multivariate: false,
    });
    assert.equal(countRuns(spec), 21);
    assert.deepEqual(
      expandSweep(spec).map((r) => r.name),
      ['original'],
    );
  });

  it('ships sweeps/tpe-asha.yaml, valid', () => {
    const spec = loadSweepFile(`${ROOT}sweeps/tpe-asha.yaml`);
    assert.equal(spec.search.strategy, 'tpe');
    assert.equal(spec.earlyTermination?.type, 'asha');
  });

  it('names what is missing, with the file and key path', () => {
    const found = problems(`name: t
trainer: builtin
grid: { lr: [1e-5] }
search: { strategy: tpe }
`);
    assert.ok(
      found.some((p) => /^search \(line 4\): tpe needs "samples"/.test(p)),
      found.join('\n'),
    );
    assert.ok(found.some((p) => /tpe needs "metric"/.test(p)));
    assert.ok(found.some((p) => /tpe needs "mode": min or max/.test(p)));
    assert.ok(
      found.some((p) => /^grid \(line 3\): tpe has nothing to sample/.test(p)),
      found.join('\n'),
    );
  });

  it('refuses an objective the built-in trainer never reports', () => {
    const found = problems(`name: t
trainer: builtin
grid: { lr: { loguniform: [1e-6, 1e-3] } }
search: { strategy: tpe, samples: 5, metric: val/accuracy, mode: max }
`);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /^search\.metric \(line 4\): the built-in trainer never reports "val\/accuracy"; expected one of val\/loss/,
    );
    assert.deepEqual(
      problems(`name: t
trainer: builtin
grid: { lr: { loguniform: [1e-6, 1e-3] } }
search: { strategy: tpe, samples: 5, metric: retain/t2i_R@5, mode: max }
`),
      [],
    );
  });

  it('refuses several seeds, and unknown keys with the ones it knows', () => {
    const found = problems(`name: t
trainer: { command: [x] }
grid: { lr: { loguniform: [1e-6, 1e-3] } }
seeds: [0, 1]
search: { strategy: tpe, samples: 5, metric: m, mode: min, gamma: 0.2 }
`);
    const seeds = problems(`name: t
trainer: { command: [x] }
grid: { lr: { loguniform: [1e-6, 1e-3] } }
seeds: [0, 1]
search: { strategy: tpe, samples: 5, metric: m, mode: min }
`);
    assert.equal(seeds.length, 1);
    assert.match(seeds[0]!, /^seeds \(line 4\): tpe proposes one run per configuration/);
    assert.ok(
      found.some((p) =>
        /^search\.gamma \(line 5\): unknown key "gamma" \(expected one of: strategy, samples, seed, metric, mode, startup, multivariate\)/.test(
          p,
        ),
      ),
      found.join('\n'),
    );
  });
});
