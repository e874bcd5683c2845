import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OpenClipTranslator } from '../../src/metrics/adapters/openclip.js';
import { evalMetricKey, parseNumber, parseOpenClipLine } from '../../src/metrics/adapters/openclip-parse.js';
import { LogSources, ProtocolWriter } from '../../src/metrics/adapters/translator.js';
import { tempDir } from '../helpers.js';

const TRAIN_MAIN =
  '2026-11-26,22:33:43 | INFO | open_clip_train.train | Train Epoch: 0 [ 32/512 (6%)] Data (t): 0.022 Batch (t): 0.127, 252.627/s, 252.627/s/gpu LR: 0.000100 Logit Scale: 14.286 Contrastive_loss: 3.5881 (3.5881) Loss: 3.5881 (3.5881)';
const TRAIN_V33 = TRAIN_MAIN.replace(' open_clip_train.train |', '');
const EVAL =
  '2026-11-26,22:33:45 | INFO | open_clip_train.train | Eval Epoch: 1 image_to_text_mean_rank: 37.6250\timage_to_text_median_rank: 30.0000\timage_to_text_R@1: 0.0156\timage_to_text_R@5: 0.0781\timage_to_text_R@10: 0.1562\ttext_to_image_mean_rank: 37.1484\ttext_to_image_median_rank: 31.0000\ttext_to_image_R@1: 0.0156\ttext_to_image_R@5: 0.0781\ttext_to_image_R@10: 0.1562\tclip_val_loss: 3.0265\tepoch: 1.0000\tnum_samples: 128.0000';

describe('OpenCLIP output', () => {
  it('reads a train line in both versions', () => {
    for (const line of [TRAIN_MAIN, TRAIN_V33]) {
      const parsed = parseOpenClipLine(line);
      assert.equal(parsed.kind, 'train');
      if (parsed.kind !== 'train') return;
      assert.deepEqual([parsed.epoch, parsed.samples, parsed.datasetSize], [0, 32, 512]);
      assert.equal(parsed.samplesPerSec, 252.627);
      assert.equal(parsed.lr, 0.0001);
      assert.equal(parsed.logitScale, 14.286);
      assert.deepEqual(parsed.losses, [
        ['Contrastive_loss', 3.5881],
        ['Loss', 3.5881],
      ]);
    }
  });

  it('keeps nan and inf, tolerates odd spacing', () => {
    const parsed = parseOpenClipLine(
      TRAIN_MAIN.replace('Loss: 3.5881 (3.5881)', 'Loss: nan (nan)')
        .replace('LR: ', 'LR:   ')
        .replace(' 252.627/s,', ' 2.52627e+06/s,'),
    );
    assert.equal(parsed.kind, 'train');
    if (parsed.kind !== 'train') return;
    assert.ok(Number.isNaN(parsed.losses[1]![1]));
    assert.equal(parsed.lr, 0.0001);
    assert.equal(parsed.samplesPerSec, 2526270);
    assert.equal(parseNumber('inf'), Infinity);
    assert.equal(parseNumber('-inf'), -Infinity);
    assert.equal(parseNumber('1.5e-7'), 1.5e-7);
    assert.equal(parseNumber('abc'), null);
  });

  it('reads the eval summary, keys with @ included, and ignores eval progress', () => {
    const parsed = parseOpenClipLine(EVAL);
    assert.equal(parsed.kind, 'eval');
    if (parsed.kind !== 'eval') return;
    assert.equal(parsed.epoch, 1);
    assert.equal(parsed.values.get('image_to_text_R@10'), 0.1562);
    assert.equal(parsed.values.get('clip_val_loss'), 3.0265);
    assert.equal(
      parseOpenClipLine(
        '2026-11-26,22:33:45 | INFO | open_clip_train.train | Eval Epoch: 1 [32 / 128]\tClip Loss: 3.049898\t',
      ).kind,
      'other',
    );
    assert.equal(evalMetricKey('image_to_text_R@5'), 'val/i2t_R@5');
    assert.equal(evalMetricKey('text_to_image_median_rank'), 'val/t2i_median_rank');
    assert.equal(evalMetricKey('clip_val_loss'), 'val/loss');
    assert.equal(evalMetricKey('num_samples'), null);
  });

  it('ignores what is not a metric record, and calls near misses by name', () => {
    for (const line of [
      'CLIP(',
      '  Loss: 3.5 (3.5)',
      'Traceback (most recent call last):',
      '2026-11-26,22:33:43 | INFO | open_clip_train.main | Model: ViT-B-32',
    ]) {
      assert.equal(parseOpenClipLine(line).kind, 'other', line);
    }
    assert.equal(parseOpenClipLine('2026-11-26,22:33:43 | INFO | x | Train Epoch: 0 garbled').kind, 'near-miss');
    assert.equal(parseOpenClipLine(TRAIN_MAIN.replace('LR: 0.000100', 'LR: 0.0x1')).kind, 'near-miss');
    assert.equal(parseOpenClipLine(EVAL.replace('30.0000', 'thirty')).kind, 'near-miss');
  });

  it('holds results.jsonl until a train line gives the step layout (stdout can lag behind it)', () => {
    const dir = tempDir();
    const file = (name: string): string => join(dir, name);
    for (const name of ['stdout.log', 'stderr.log', 'metrics.jsonl', 'problems.log']) writeFileSync(file(name), '');
    // The child wrote both evaluations to results.jsonl before its stdout reached the log file.
    writeFileSync(file('results.jsonl'), '{"clip_val_loss": 3.0, "epoch": 1}\n{"clip_val_loss": 2.9, "epoch": 2}\n');
    const translator = new OpenClipTranslator({
      sources: new LogSources({ stdout: file('stdout.log'), stderr: file('stderr.log') }, { stdout: 0, stderr: 0 }),
      resultsFile: file('results.jsonl'),
      writer: new ProtocolWriter(file('metrics.jsonl')),
      problemsFile: file('problems.log'),
      batchSize: 64,
      epochs: 2,
    });
    const valPoints = (): [number, number][] =>
      readFileSync(file('metrics.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { step?: number; metrics?: Record<string, number> })
        .filter((r) => r.metrics?.['val/loss'] !== undefined)
        .map((r) => [r.step!, r.metrics!['val/loss']!]);
    translator.pump(false);
    assert.deepEqual(valPoints(), [], 'no evaluation is placed before the step layout is known');
    appendFileSync(file('stdout.log'), `${TRAIN_MAIN.replace('[ 32/512 (6%)]', '[ 64/512 (12%)]')}\n`);
    translator.pump(false);
    translator.pump(true);
    assert.deepEqual(valPoints(), [
      [7, 3.0],
      [15, 2.9],
    ]);
  });
});
