// The sampler computes exactly what it computed before its speed-ups: on fixed cases (1,000
// trials, log, integer and categorical parameters, pruned runs, ties, pending runs, both modes,
// univariate and multivariate), every candidate, every score to the last bit, and every proposal
// equal those recorded in test/fixtures/tpe-golden.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers.js';
import { goldenCases, runGoldenCase, type GoldenResult } from './golden-cases.js';

const recorded = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/tpe-golden.json'), 'utf8')) as GoldenResult[];

describe('TPE golden cases', () => {
  const cases = goldenCases();
  it('covers every recorded case', () => assert.equal(cases.length, recorded.length));
  cases.forEach((c, i) => {
    it(c.name, () => {
      const now = runGoldenCase(c);
      const then = recorded[i]!;
      assert.equal(now.name, then.name);
      assert.equal(now.groups.length, then.groups.length);
      now.groups.forEach((g, k) => {
        assert.deepEqual(g.candidates, then.groups[k]!.candidates, `group ${k}: candidates`);
        // Object.is, not ===: the same bits (JSON keeps every double exactly).
        g.scores.forEach((s, j) =>
          assert.ok(
            Object.is(s, then.groups[k]!.scores[j]),
            `group ${k}, candidate ${j}: ${s} != ${then.groups[k]!.scores[j]}`,
          ),
        );
      });
      assert.deepEqual(now.params, then.params);
    });
  });
});
