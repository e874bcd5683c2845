import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseLenientJson, parseMetricsLine } from '../../src/protocol/lines.js';
import { FileTail } from '../../src/metrics/tail.js';
import { tempDir } from '../helpers.js';

describe('metrics protocol: one line', () => {
  it('reads the minimal line', () => {
    assert.deepEqual(
      parseMetricsLine('{"step": 120, "metrics": {"train/loss": 2.31, "lr": 1e-6, "logit_scale": 28.4}}'),
      {
        type: 'metrics',
        step: 120,
        epoch: null,
        time: null,
        values: [
          ['train/loss', 2.31],
          ['lr', 1e-6],
          ['logit_scale', 28.4],
        ],
      },
    );
  });

  it('keeps NaN and infinities, bare or quoted, and null as NaN', () => {
    const parsed = parseMetricsLine(
      '{"step": 1, "epoch": 0.5, "metrics": {"a": NaN, "b": Infinity, "c": -Infinity, "d": "NaN", "e": null, "f": "Infinity"}}',
    );
    assert.equal(parsed.type, 'metrics');
    if (parsed.type !== 'metrics') return;
    const v = Object.fromEntries(parsed.values);
    assert.ok(Number.isNaN(v.a) && Number.isNaN(v.d) && Number.isNaN(v.e));
    assert.equal(v.b, Infinity);
    assert.equal(v.c, -Infinity);
    assert.equal(v.f, Infinity);
    assert.equal(parsed.epoch, 0.5);
  });

  it('does not touch NaN inside strings', () => {
    assert.deepEqual(parseLenientJson('{"name": "NaN Infinity", "v": NaN}'), { name: 'NaN Infinity', v: 'NaN' });
  });

  it('reads events', () => {
    const parsed = parseMetricsLine('{"event": "started", "total_steps": 400}');
    assert.equal(parsed.type, 'event');
    if (parsed.type === 'event') assert.equal(parsed.payload.total_steps, 400);
  });

  it('rejects, with a reason, what is not the protocol', () => {
    const bad = [
      'not json',
      '[1,2]',
      '{"metrics": {"a": 1}}',
      '{"step": -1, "metrics": {}}',
      '{"step": 1.5, "metrics": {}}',
      '{"step": 1, "metrics": {"a": "x"}}',
      '{"step": 1}',
      '{"event": 3}',
      '',
    ];
    for (const line of bad) assert.equal(parseMetricsLine(line).type, 'bad', line);
  });
});

describe('tailing a metrics file', () => {
  it('returns complete lines once, with byte offsets, and a partial line only at the end', () => {
    const file = join(tempDir(), 'm.jsonl');
    const tail = new FileTail(file, 0);
    assert.deepEqual(tail.read(), [], 'a missing file is empty');
    writeFileSync(file, 'a\nbé\npart');
    assert.deepEqual(tail.read(), [
      { offset: 0, text: 'a' },
      { offset: 2, text: 'bé' },
    ]);
    assert.equal(tail.offset, 6);
    assert.deepEqual(tail.read(), []);
    appendFileSync(file, 'ial\nnext');
    assert.deepEqual(tail.read(), [{ offset: 6, text: 'partial' }]);
    assert.deepEqual(tail.read({ final: true }), [{ offset: 14, text: 'next' }]);
    const resumed = new FileTail(file, 6);
    assert.deepEqual(
      resumed.read({ final: true }).map((l) => l.text),
      ['partial', 'next'],
    );
  });

  it('reads a large file in bounded chunks without losing lines across chunk edges', () => {
    const file = join(tempDir(), 'big.jsonl');
    const lines = Array.from({ length: 60_000 }, (_, i) =>
      JSON.stringify({ step: i, metrics: { 'train/loss': i / 7 } }),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const tail = new FileTail(file, 0);
    const seen: string[] = [];
    for (let batch = tail.read({ maxBytes: 100_000 }); batch.length > 0; batch = tail.read({ maxBytes: 100_000 }))
      seen.push(...batch.map((l) => l.text));
    assert.equal(seen.length, lines.length);
    assert.equal(seen[12_345], lines[12_345]);
  });
});
