import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers.js';

function freshStore(): { store: SqliteStore; file: string; sweepPk: number } {
  const file = join(tempDir(), 'nested', 'sweeps.db');
  const store = SqliteStore.open(file);
  const sweep = store.registerSweep({ name: 's', specPath: '/x.yaml', spec: { a: 1 }, specHash: 'h', runsDir: '/runs' });
  store.registerRuns(sweep.pk, [
    { id: 'r1', name: 'one', params: { lr: 1 }, ordinal: 0, runDir: '/runs/s/r1' },
    { id: 'r2', name: 'two', params: { lr: 2 }, ordinal: 1, runDir: '/runs/s/r2' },
  ]);
  return { store, file, sweepPk: sweep.pk };
}

describe('SQLite store', () => {
  it('creates the file in WAL mode with a versioned schema', () => {
    const { store, file } = freshStore();
    store.close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    db.close();
  });

  it('upgrades a version-1 database in place, keeping its runs and history', () => {
    const file = join(tempDir(), 'old.db');
    const db = new Database(file);
    db.exec(MIGRATIONS[0] as string);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO sweeps (name, spec_json, spec_hash, runs_dir, created_at, updated_at) VALUES ('old', '{}', 'h', '/r', 1, 1)").run();
    db.prepare("INSERT INTO runs (sweep_pk, run_id, name, params_json, ordinal, status, run_dir) VALUES (1, 'r1', 'one', '{}', 0, 'queued', '/r/old/r1')").run();
    db.prepare("INSERT INTO run_transitions (run_pk, at, to_status, attempt) VALUES (1, 1, 'queued', 0)").run();
    db.close();
    // A reader (sweep status, sweep report) upgrades it too, before reading.
    const reader = SqliteStore.open(file, { readonly: true });
    assert.equal(reader.listRuns(reader.getSweep('old').pk)[0]!.pruneRung, null);
    reader.close();
    const store = SqliteStore.open(file);
    const [run] = store.listRuns(store.getSweep('old').pk);
    assert.equal(run!.name, 'one');
    assert.equal(run!.jobId, null);
    assert.equal(store.transitions(run!.pk).length, 1);
    assert.ok(store.claimRun(run!.pk, 'me', 'cpu0', null));
    assert.ok(store.finishRun(run!.pk, 'me', { status: 'pruned', reason: 'pruned: test', pruneRung: 2 }), 'the new state is allowed');
    assert.equal(store.getRun(run!.pk).pruneRung, 2);
    store.close();
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.deepEqual(check.pragma('foreign_key_check'), []);
    check.close();
  });

  it('refuses a database from a newer schema', () => {
    const { store, file } = freshStore();
    store.close();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => SqliteStore.open(file), /schema version 99, newer than this clipsweep understands/);
  });

  it('registering again keeps runs and their state', () => {
    const { store, sweepPk } = freshStore();
    const [r1] = store.listRuns(sweepPk);
    assert.ok(store.claimRun(r1!.pk, 'me', 'cpu0', null));
    store.registerRuns(sweepPk, [{ id: 'r1', name: 'renamed', params: { lr: 1 }, ordinal: 5, runDir: '/elsewhere' }]);
    const again = store.getRun(r1!.pk);
    assert.equal(again.status, 'running');
    assert.equal(again.name, 'renamed');
    assert.equal(again.runDir, '/runs/s/r1', 'a running run keeps its folder');
    assert.equal(store.listRuns(sweepPk).length, 2);
  });

  it('reads a sweep page by page in listRuns order, with writes between pages', () => {
    const { store, sweepPk } = freshStore();
    // Registered lazily from a generator; ordinals tie (r1 and r2 keep 0 and 1), so paging must
    // use the key as well as the ordinal.
    store.registerRuns(
      sweepPk,
      (function* () {
        for (let i = 0; i < 23; i++) yield { id: `p${i}`, name: `p${i}`, params: { i }, ordinal: Math.floor(i / 3), runDir: `/runs/s/p${i}` };
      })(),
    );
    const expected = store.listRuns(sweepPk);
    assert.equal(expected.length, 25);
    const seen: string[] = [];
    for (const run of store.eachRun(sweepPk, 4)) {
      seen.push(run.id);
      // Writing while paging is allowed: no statement is left open between pages.
      if (run.status === 'queued') assert.ok(store.claimRun(run.pk, 'me', 'cpu0', null));
    }
    assert.deepEqual(seen, expected.map((r) => r.id));
    assert.ok(store.listRuns(sweepPk).every((r) => r.status === 'running'));
    assert.deepEqual([...store.eachRun(sweepPk, 25)].map((r) => r.id), seen, 'a last page exactly full');
    assert.deepEqual([...store.eachRun(store.registerSweep({ name: 'empty', specPath: null, spec: {}, specHash: 'h', runsDir: '/runs' }).pk)], []);
  });

  it('enforces transitions with compare-and-set, across two connections', () => {
    const { store, file, sweepPk } = freshStore();
    const other = SqliteStore.open(file);
    const [r1] = store.listRuns(sweepPk);
    assert.equal(store.claimRun(r1!.pk, 'a', 'cpu0', null), true);
    assert.equal(other.claimRun(r1!.pk, 'b', 'cpu1', null), false, 'a claimed run cannot be claimed again');
    assert.equal(other.finishRun(r1!.pk, 'b', { status: 'completed' }), false, 'only the owner finishes it');
    assert.equal(store.finishRun(r1!.pk, 'a', { status: 'failed', failureKind: 'exit', exitCode: 3, reason: 'exited with code 3' }), true);
    assert.equal(store.finishRun(r1!.pk, 'a', { status: 'completed' }), false, 'a finished run does not finish twice');
    assert.equal(store.requeueRun(r1!.pk, ['failed'], 'retry'), true);
    assert.equal(other.claimRun(r1!.pk, 'b', 'cpu1', null), true);
    const run = other.getRun(r1!.pk);
    assert.equal(run.attempt, 2);
    assert.equal(run.reason, null, 'a new attempt starts clean');
    assert.deepEqual(
      store.transitions(r1!.pk).map((t) => `${t.from ?? '-'}>${t.to}#${t.attempt}`),
      ['->queued#0', 'queued>running#1', 'running>failed#1', 'failed>queued#1', 'queued>running#2'],
    );
    assert.throws(() => store.finishRun(r1!.pk, 'b', { status: 'queued' as never }), /invalid run transition/);
    other.close();
  });

  it('ingests idempotently, keeps NaN and infinities, never rewinds the offset', () => {
    const { store, sweepPk } = freshStore();
    const [r1] = store.listRuns(sweepPk);
    const batch = {
      runPk: r1!.pk,
      attempt: 1,
      metrics: [
        { key: 'train/loss', step: 0, value: 2.5, time: 1 },
        { key: 'train/loss', step: 1, value: NaN, time: 2 },
        { key: 'grad', step: 1, value: Infinity, time: 2 },
        { key: 'neg', step: 1, value: -Infinity, time: 2 },
      ],
      events: [{ offset: 0, kind: 'started', step: null, payload: { total_steps: 10 }, time: 0 }],
      offset: 100,
      lines: 4,
      badLines: 1,
      totalSteps: 10,
      lastStep: 1,
    };
    store.ingest([batch]);
    store.ingest([{ ...batch, offset: 50, lines: 0, badLines: 0 }]);
    assert.equal(store.countMetrics(r1!.pk), 4);
    const loss = store.series(r1!.pk, 'train/loss');
    assert.equal(loss.length, 2);
    assert.ok(Number.isNaN(loss[1]!.value));
    assert.equal(store.series(r1!.pk, 'grad')[0]!.value, Infinity);
    assert.equal(store.series(r1!.pk, 'neg')[0]!.value, -Infinity);
    assert.equal(store.events(r1!.pk).length, 1);
    const run = store.getRun(r1!.pk);
    assert.equal(run.metricsOffset, 100);
    assert.equal(run.totalSteps, 10);
    assert.equal(run.badLines, 1);
    // A later value for the same (run, key, step) replaces the earlier one.
    store.ingest([{ ...batch, metrics: [{ key: 'train/loss', step: 0, value: 1.5, time: 3 }], events: [], offset: 120, lines: 1, badLines: 0 }]);
    assert.equal(store.series(r1!.pk, 'train/loss')[0]!.value, 1.5);
    assert.deepEqual(store.metricKeys(r1!.pk), ['grad', 'neg', 'train/loss']);
    assert.equal(store.latestMetrics(sweepPk).get(r1!.pk)!.get('train/loss')!.step, 1);
  });

  it('marks runs of a dead orchestrator interrupted, only if it still holds them', () => {
    const { store, sweepPk } = freshStore();
    const [r1] = store.listRuns(sweepPk);
    store.claimRun(r1!.pk, 'dead', 'cpu0', null);
    assert.equal(store.markOrphaned(r1!.pk, 'someone-else', 'x'), false);
    assert.equal(store.markOrphaned(r1!.pk, 'dead', 'died'), true);
    const run = store.getRun(r1!.pk);
    assert.equal(run.status, 'interrupted');
    assert.equal(run.failureKind, 'orphaned');
  });
});
