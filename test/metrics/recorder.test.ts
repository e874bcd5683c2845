// The recorder against a real SQLite file: no valid line is dropped however much is unread, a
// too-long line is logged and skipped, and a metrics file replaced under its name is read again
// from its start (issue 13, faults 2 and 6).
import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Recorder } from '../../src/metrics/recorder.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers.js';

function setup() {
  const dir = tempDir();
  const store = SqliteStore.open(join(dir, 'sweeps.db'));
  const sweep = store.registerSweep({ name: 's', specPath: null, spec: {}, specHash: 'h', runsDir: dir });
  store.registerRuns(sweep.pk, [{ id: 'r1', name: 'one', params: {}, ordinal: 0, runDir: join(dir, 'r1') }]);
  const run = store.listRuns(sweep.pk)[0]!;
  const metricsFile = join(dir, 'metrics.jsonl');
  const problemsFile = join(dir, 'ingest-problems.log');
  const recorder = new Recorder(store, { pollMs: 0 });
  recorder.watch({ runPk: run.pk, attempt: 1, metricsFile, problemsFile, offset: 0, linesBefore: 0 });
  return { dir, store, runPk: run.pk, metricsFile, problemsFile, recorder };
}

const line = (step: number, pad = 0): string =>
  `${JSON.stringify({ step, metrics: { 'train/loss': step / 10 }, ...(pad > 0 ? { note: 'x'.repeat(pad) } : {}) })}\n`;

function steps(store: SqliteStore, runPk: number): number[] {
  return store.series(runPk, 'train/loss').map((p) => p.step);
}

describe('recorder: nothing dropped', () => {
  it('reads a file to its end when far more than one read (64 MiB) is unread at finish', { timeout: 120_000 }, () => {
    const { store, runPk, metricsFile, recorder } = setup();
    // ~72 MiB in 1 KiB lines: more than one read's budget, few rows.
    const count = 72 * 1024;
    const fd = openSync(metricsFile, 'w');
    const block: string[] = [];
    for (let step = 0; step < count; step++) {
      block.push(line(step, 1000));
      if (block.length === 4096) writeSync(fd, block.splice(0).join(''));
    }
    writeSync(fd, block.join(''));
    closeSync(fd);
    recorder.finish(runPk);
    assert.equal(store.countMetrics(runPk), count);
    const run = store.getRun(runPk);
    assert.equal(run.metricsOffset, readFileSync(metricsFile).length, 'ingestion reached the end of the file');
    store.close();
  });

  it('logs and skips a line too long to store (70 MiB), and reads on after it', { timeout: 120_000 }, () => {
    const { store, runPk, metricsFile, problemsFile, recorder } = setup();
    writeFileSync(metricsFile, line(0) + line(1));
    recorder.poll();
    const fd = openSync(metricsFile, 'a');
    writeSync(fd, '{"step": 2, "metrics": {"train/loss": 0.2}, "junk": "');
    const mib = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 70; i++) {
      writeSync(fd, mib);
      if (i === 30) recorder.poll(); // the writer is still in the middle of the long line
    }
    writeSync(fd, '"}\n');
    closeSync(fd);
    appendFileSync(metricsFile, line(3) + line(4));
    recorder.poll();
    appendFileSync(metricsFile, line(5));
    recorder.finish(runPk);
    assert.deepEqual(steps(store, runPk), [0, 1, 3, 4, 5]);
    assert.equal(store.getRun(runPk).badLines, 1);
    assert.match(
      readFileSync(problemsFile, 'utf8'),
      /^line 3 \(byte \d+\): too long \(734\d+ bytes, more than the 16777216 a line may hold\): skipped$/m,
    );
    store.close();
  });

  it('reads a metrics file replaced by a longer one from its start', () => {
    const { store, runPk, metricsFile, problemsFile, dir, recorder } = setup();
    for (let step = 0; step < 20; step++) appendFileSync(metricsFile, line(step));
    recorder.poll();
    const replacement = join(dir, 'replacement.jsonl');
    writeFileSync(replacement, Array.from({ length: 100 }, (_, i) => line(100 + i)).join(''));
    renameSync(replacement, metricsFile);
    for (let step = 200; step < 210; step++) appendFileSync(metricsFile, line(step));
    recorder.finish(runPk);
    const expected = [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 110 }, (_, i) => 100 + i)];
    assert.deepEqual(steps(store, runPk), expected);
    assert.equal(store.getRun(runPk).badLines, 0);
    assert.ok(existsSync(problemsFile));
    assert.match(readFileSync(problemsFile, 'utf8'), /replaced/);
    assert.doesNotMatch(readFileSync(problemsFile, 'utf8'), /^line/m, 'no fragment was read as garbage');
    store.close();
  });

  it('reads a file truncated and rewritten in place (same inode) from its start', () => {
    const { store, runPk, metricsFile, recorder } = setup();
    writeFileSync(metricsFile, Array.from({ length: 5 }, (_, i) => line(i)).join(''));
    recorder.poll();
    writeFileSync(metricsFile, Array.from({ length: 50 }, (_, i) => line(1000 + i)).join(''));
    recorder.finish(runPk);
    assert.equal(steps(store, runPk).filter((s) => s >= 1000).length, 50);
    assert.equal(store.getRun(runPk).badLines, 0);
    store.close();
  });
});
