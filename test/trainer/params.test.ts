import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParams, ParamError } from '../../src/trainer/params.js';

test('defaults fill every parameter', () => {
  const p = parseParams({});
  assert.equal(p.batch_size, 64);
  assert.equal(p.schedule, 'cosine');
  assert.equal(p.model.width, 128);
  assert.deepEqual(p.augment, { crop: true, cropScale: [0.8, 1], flip: false, wordDropout: 0 });
});

test('unknown parameters are an error that names them', () => {
  assert.throws(
    () => parseParams({ batchsize: 64, lr: 1e-5, warmpu: 3 }),
    (e: unknown) => {
      assert.ok(e instanceof ParamError);
      assert.match(e.message, /"batchsize"/);
      assert.match(e.message, /"warmpu"/);
      return true;
    },
  );
});

test('nonsense values are rejected, every problem listed', () => {
  assert.throws(
    () => parseParams({ lr: -1, batch_size: 0, warmup: 'ten', schedule: 'exp' }),
    (e: unknown) => {
      assert.ok(e instanceof ParamError);
      for (const k of ['lr', 'batch_size', 'warmup', 'schedule']) assert.match(e.message, new RegExp(`${k}:`));
      return true;
    },
  );
  assert.throws(() => parseParams({ epochs: 2, steps: 10 }), /either epochs or steps/);
  assert.throws(() => parseParams({ model: 'vit-h-14' }), /unknown preset/);
  assert.throws(() => parseParams({ model: { preset: 'tiny', width: 100, heads: 3 } }), /multiple of heads/);
});

test('presets and overrides, warmup as a percentage', () => {
  const p = parseParams({ model: 'vit-b-32', warmup: '10%' });
  assert.deepEqual(
    [p.model.width, p.model.textWidth, p.model.layers, p.model.patchSize, p.model.imageSize, p.model.contextLength],
    [768, 512, 12, 32, 224, 77],
  );
  assert.equal(parseParams({ model: { preset: 'tiny', layers: 4 } }).model.layers, 4);
});

test('early stopping: known metrics only; mode defaults to max for recall, min otherwise', () => {
  assert.equal(parseParams({ early_stopping: { metric: 'val/i2t_R@5' } }).early_stopping?.mode, 'max');
  assert.equal(parseParams({ early_stopping: { metric: 'val/loss' } }).early_stopping?.mode, 'min');
  assert.equal(
    parseParams({ early_stopping: { metric: 'retain/t2i_median_rank', mode: 'min', patience: 2 } }).early_stopping
      ?.patience,
    2,
  );
  assert.throws(() => parseParams({ early_stopping: { metric: 'val/acc' } }), /early_stopping\.metric/);
  assert.equal(parseParams({}).early_stopping, null);
});
