import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrAt, resolveWarmup } from '../../src/trainer/schedule.js';

// OpenCLIP's training/scheduler.py, transcribed as the reference.
function openClipCosine(base: number, warmup: number, steps: number, step: number): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const e = step - warmup;
  const es = steps - warmup;
  return 0.5 * (1 + Math.cos((Math.PI * e) / es)) * base;
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-15 + 1e-12 * Math.abs(b), `${a} != ${b}`);

test('cosine: warmup start, warmup end, mid-decay and last step match OpenCLIP', () => {
  const s = { kind: 'cosine' as const, baseLr: 5e-6, warmup: 100, totalSteps: 1100 };
  close(lrAt(s, 0), 5e-6 / 100);
  close(lrAt(s, 99), 5e-6);
  close(lrAt(s, 100), 5e-6);
  close(lrAt(s, 600), 2.5e-6);
  close(lrAt(s, 1099), openClipCosine(5e-6, 100, 1100, 1099));
  assert.ok(lrAt(s, 1099) > 0 && lrAt(s, 1099) < 1e-9);
  for (const step of [0, 1, 50, 99, 100, 101, 333, 600, 777, 1098, 1099])
    close(lrAt(s, step), openClipCosine(5e-6, 100, 1100, step));
});

test('const and linear schedules after the same warmup', () => {
  const c = { kind: 'const' as const, baseLr: 1e-3, warmup: 10, totalSteps: 100 };
  close(lrAt(c, 4), 5e-4);
  close(lrAt(c, 10), 1e-3);
  close(lrAt(c, 99), 1e-3);
  const l = { kind: 'linear' as const, baseLr: 1e-3, warmup: 10, totalSteps: 110 };
  close(lrAt(l, 10), 1e-3);
  close(lrAt(l, 60), 5e-4);
  close(lrAt(l, 109), 1e-5);
});

test('warmup longer than the run stays in warmup', () => {
  const s = { kind: 'cosine' as const, baseLr: 1, warmup: 1000, totalSteps: 100 };
  close(lrAt(s, 99), 0.1);
});

test('warmup as a percentage of the total steps', () => {
  assert.equal(resolveWarmup('10%', 1234), 123);
  assert.equal(resolveWarmup('2.5%', 400), 10);
  assert.equal(resolveWarmup(7, 400), 7);
  assert.throws(() => resolveWarmup('ten', 10), /percentage/);
});
