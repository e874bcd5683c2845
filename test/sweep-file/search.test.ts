import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandSweep } from '../../src/sweep-file/expand.js';
import { parseSweep } from '../../src/sweep-file/load.js';
import { draw } from '../../src/sweep-file/search.js';

const RANDOM = `name: rs
trainer: builtin
search: { strategy: random, samples: 24, seed: 7 }
grid:
  lr: { loguniform: [1.0e-7, 1.0e-4] }
  warmup: { uniform: [1000, 20000], int: true }
  batch_size: [32, 64, 128, 256]
configs: [{ name: seed-original, batch_size: 256, lr: 5.0e-6, warmup: 10000 }]
`;

describe('random search', () => {
  it('draws reproducibly within the space', () => {
    const a = expandSweep(parseSweep(RANDOM, 'rs.yaml'));
    const b = expandSweep(parseSweep(RANDOM, 'rs.yaml'));
    assert.equal(a.length, 25);
    assert.deepEqual(
      a.map((r) => r.id),
      b.map((r) => r.id),
    );
    const drawn = a.filter((r) => r.origin === 'grid');
    for (const run of drawn) {
      const { lr, warmup, batch_size } = run.params as { lr: number; warmup: number; batch_size: number };
      assert.ok(lr >= 1e-7 && lr <= 1e-4, String(lr));
      assert.ok(Number.isInteger(warmup) && warmup >= 1000 && warmup <= 20000);
      assert.ok([32, 64, 128, 256].includes(batch_size));
    }
    // Log-uniform: about a third of the draws in each decade.
    const decades = [0, 0, 0];
    for (const run of drawn) decades[Math.min(2, Math.floor(Math.log10((run.params.lr as number) / 1e-7)))]!++;
    assert.ok(
      decades.every((n) => n >= 3),
      JSON.stringify(decades),
    );
    const other = expandSweep(parseSweep(RANDOM.replace('seed: 7', 'seed: 8'), 'rs.yaml'));
    assert.notDeepEqual(
      other.map((r) => r.id),
      a.map((r) => r.id),
    );
  });

  it('more samples extend the same sequence (resuming draws nothing new)', () => {
    const space = { lr: { loguniform: [1e-7, 1e-4] as [number, number], int: false }, bs: [1, 2, 3] };
    assert.deepEqual(draw(space, 5, 3), draw(space, 8, 3).slice(0, 5));
  });

  it('checks the space', () => {
    assert.throws(
      () => parseSweep(RANDOM.replace('strategy: random, ', ''), 'rs.yaml'),
      /grid\.lr \(line 5\): a distribution needs search: \{ strategy: random/,
    );
    assert.throws(() => parseSweep(RANDOM.replace('samples: 24, ', ''), 'rs.yaml'), /random search needs "samples"/);
    assert.throws(() => parseSweep(RANDOM.replace('[1.0e-7, 1.0e-4]', '[0, 1.0e-4]'), 'rs.yaml'), /grid\.lr/);
    assert.throws(
      () => parseSweep(RANDOM.replace('[1000, 20000], int: true', '[1000, 20000], int: true, step: 5'), 'rs.yaml'),
      /unknown key "step"/,
    );
    assert.throws(
      () => parseSweep(RANDOM.replace('uniform: [1000, 20000], int: true', 'uniform: [-5, 10]'), 'rs.yaml'),
      /grid\.warmup.*low bound/,
    );
  });
});
