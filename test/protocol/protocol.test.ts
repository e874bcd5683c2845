// The protocol's one definition, checked against the shared cases: what the trainer's writer and
// the Python helper put on a line is what the recorder reads back, and the warmup rule.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeNumber, encodeLine, encodeNumber, parseMetricsLine } from '../../src/protocol/lines.js';
import { parseWarmup, warmupSteps } from '../../src/protocol/warmup.js';
import { ROOT, tempDir } from '../helpers.js';

interface Cases {
  values: { name: string; value: number | string; line: number | string }[];
  warmup: { value: unknown; total: number | null; steps?: number | null; invalid?: boolean }[];
}
const cases = JSON.parse(readFileSync(join(ROOT, 'test/protocol/cases.json'), 'utf8')) as Cases;
const asNumber = (v: number | string): number => (typeof v === 'number' ? v : Number(v));
const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe('protocol: numbers on a line', () => {
  for (const c of cases.values) {
    it(`${c.name}: written as ${JSON.stringify(c.line)} and read back`, () => {
      const value = asNumber(c.value);
      assert.equal(encodeNumber(value), c.line);
      const line = encodeLine({ step: 3, metrics: { [c.name]: value } });
      assert.equal(line, `{"step":3,"metrics":{"${c.name}":${JSON.stringify(c.line)}}}`);
      const parsed = parseMetricsLine(line);
      assert.equal(parsed.type, 'metrics');
      if (parsed.type === 'metrics')
        assert.ok(same(parsed.values[0]![1], value), `${parsed.values[0]![1]} != ${value}`);
      assert.ok(same(decodeNumber(c.line)!, value));
    });
  }

  it('the Python helper writes every case so that the reader gets the same value', () => {
    const dir = tempDir('protocol-py');
    const file = join(dir, 'metrics.jsonl');
    const script = [
      'import json, sys',
      'import clipsweep_metrics as cs',
      'for c in json.load(open(sys.argv[1]))["values"]:',
      '    cs.log(7, {c["name"]: float(c["value"])})',
    ].join('\n');
    execFileSync('python3', ['-c', script, join(ROOT, 'test/protocol/cases.json')], {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'python'), SWEEP_METRICS_FILE: file },
    });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, cases.values.length);
    lines.forEach((line, i) => {
      const c = cases.values[i]!;
      const parsed = parseMetricsLine(line);
      assert.equal(parsed.type, 'metrics', line);
      if (parsed.type !== 'metrics') return;
      assert.deepEqual(
        parsed.values.map(([k]) => k),
        [c.name],
      );
      assert.ok(same(parsed.values[0]![1], asNumber(c.value)), `${line} should read as ${c.value}`);
      const raw = (JSON.parse(line) as { metrics: Record<string, unknown> }).metrics[c.name];
      assert.equal(raw, c.line, 'the Python helper spells it as the protocol does');
    });
  });
});

describe('protocol: the warmup rule', () => {
  for (const c of cases.warmup) {
    it(`${JSON.stringify(c.value)} of ${c.total} steps`, () => {
      const parsed = parseWarmup(c.value);
      if (c.invalid) {
        assert.equal(parsed, null);
        return;
      }
      assert.ok(parsed);
      assert.equal(warmupSteps(parsed, c.total), c.steps);
    });
  }
});
