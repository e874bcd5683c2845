import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lttb, seedBand, trailingMean } from '../../src/report/series.js';

test('LTTB keeps the ends and a single spike, and the requested size', () => {
  const steps = Array.from({ length: 10_000 }, (_, i) => i);
  const values = steps.map((s) => (s === 4321 ? 50 : Math.sin(s / 500)));
  const out = lttb(steps, values, 300);
  assert.equal(out.x.length, 300);
  assert.equal(out.x[0], 0);
  assert.equal(out.x[299], 9999);
  assert.ok(out.x.includes(4321));
});

test('LTTB drops non-finite points; trailing mean stays NaN while one is in the window', () => {
  assert.deepEqual(lttb([0, 1, 2], [1, NaN, 3], 300), { x: [0, 2], y: [1, 3] });
  const m = trailingMean([1, 2, NaN, 4, 5, 6], 2);
  assert.deepEqual(
    m.map((v) => (Number.isNaN(v) ? 'nan' : v)),
    [1, 1.5, 'nan', 'nan', 4.5, 5.5],
  );
});

test('seed band: mean with min..max across seeds', () => {
  const band = seedBand(
    [
      { steps: [0, 10], values: [1, 2] },
      { steps: [0, 10], values: [3, 4] },
    ],
    10,
  );
  assert.deepEqual(band, { x: [0, 10], y: [2, 3], lo: [1, 2], hi: [3, 4] });
});
