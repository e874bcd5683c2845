import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagValue, numberFlag } from '../../src/sweep-file/flags.js';

describe('OpenCLIP flags in an argv', () => {
  const argv = [
    'python',
    '-m',
    'open_clip_train.main',
    '--name',
    'r1',
    '--logs=/tmp/logs',
    '--batch-size',
    '64',
    '--epochs=3',
    '--lr',
    'x',
  ];
  it('reads --flag value and --flag=value', () => {
    assert.equal(flagValue(argv, '--name'), 'r1');
    assert.equal(flagValue(argv, '--logs'), '/tmp/logs');
    assert.equal(flagValue(argv, '--missing'), undefined);
  });
  it('reads numbers in both spellings, null when absent or not a number', () => {
    assert.equal(numberFlag(argv, '--batch-size'), 64);
    assert.equal(numberFlag(argv, '--epochs'), 3);
    assert.equal(numberFlag(argv, '--lr'), null);
    assert.equal(numberFlag(argv, '--warmup'), null);
    assert.equal(numberFlag(['--epochs'], '--epochs'), null);
  });
});
