// Every old schema version, as a real file (test/store/fixtures/v<N>.db, written by make.mjs):
// readers read it as it is without changing a byte, and the writer upgrades it to the current
// version with every row kept.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openReader } from '../../src/store/index.js';
import { READABLE_FROM_VERSION } from '../../src/store/open.js';
import { APPLICATION_ID, SCHEMA_VERSION, TABLES } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { ROOT, tempDir } from '../helpers.js';

const FIXTURES = join(ROOT, 'test/store/fixtures');

/** Every table's rows, in the fixture's own columns, in a stable order. */
function dump(
  file: string,
  columnsOf?: Map<string, string[]>,
): { columns: Map<string, string[]>; rows: Map<string, unknown[]> } {
  const db = new Database(file, { readonly: true });
  try {
    const columns = new Map<string, string[]>();
    const rows = new Map<string, unknown[]>();
    for (const table of TABLES) {
      const names =
        columnsOf?.get(table) ?? (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]);
      columns.set(table, names);
      const list = names.map((n) => `"${n}"`).join(', ');
      rows.set(table, db.prepare(`SELECT ${list} FROM ${table} ORDER BY ${list}`).raw(true).all());
    }
    return { columns, rows };
  } finally {
    db.close();
  }
}

function copyOf(version: number): string {
  const file = join(tempDir(), `v${version}.db`);
  copyFileSync(join(FIXTURES, `v${version}.db`), file);
  return file;
}

describe('schema migrations, from real files of every version', () => {
  it('has a fixture for every schema version', () => {
    const missing = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1).filter(
      (v) => !existsSync(join(FIXTURES, `v${v}.db`)),
    );
    assert.deepEqual(
      missing,
      [],
      `no fixture for schema version(s) ${missing.join(', ')}: npm run build && node test/store/fixtures/make.mjs`,
    );
    assert.ok(readdirSync(FIXTURES).filter((f) => f.endsWith('.db')).length >= SCHEMA_VERSION);
  });

  for (let version = 1; version <= SCHEMA_VERSION; version++) {
    describe(
      `version ${version}`,
      { skip: existsSync(join(FIXTURES, `v${version}.db`)) ? false : 'no fixture (see the test above)' },
      () => {
        it('is what make.mjs says: that version, unmarked, as clipsweep wrote it', () => {
          const db = new Database(join(FIXTURES, `v${version}.db`), { readonly: true });
          assert.equal(db.pragma('user_version', { simple: true }), version);
          assert.equal(db.pragma('application_id', { simple: true }), 0, 'files from before the mark');
          db.close();
        });

        it(
          'is read as it is by a reader, which changes nothing',
          { skip: version < READABLE_FROM_VERSION ? 'older than readers read' : false },
          () => {
            const file = copyOf(version);
            const before = readFileSync(file);
            const reader = openReader(file);
            try {
              const sweep = reader.getSweep('legacy');
              const runs = reader.listRuns(sweep.pk);
              assert.deepEqual(
                runs.map((r) => r.status),
                ['completed', 'failed', 'queued', 'running', ...(version >= 3 ? ['pruned'] : [])],
              );
              assert.equal(runs[0]!.jobId, version >= 2 ? '4242' : null);
              assert.equal(runs[0]!.pruneRung, null);
              assert.equal(runs[0]!.origin, version >= 4 ? 'random' : null);
              const loss = reader.seriesColumns(runs[0]!.pk, ['train/loss']).get('train/loss')!;
              assert.deepEqual(loss.steps, [0, 1, 2, 3, 4]);
              assert.deepEqual(loss.values, [2.5, 2, NaN, 1.5, 1.25]);
            } finally {
              reader.close();
            }
            assert.ok(readFileSync(file).equals(before), 'not a byte changed');
            assert.deepEqual(readdirSync(join(file, '..')), [`v${version}.db`]);
          },
        );

        it(`is upgraded by the writer to version ${SCHEMA_VERSION}, every row kept`, () => {
          const file = copyOf(version);
          const old = dump(file);
          SqliteStore.open(file).close();
          const db = new Database(file, { readonly: true });
          assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
          assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID, "marked as clipsweep's");
          assert.deepEqual(db.pragma('foreign_key_check'), []);
          assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
          db.close();
          // Row for row, column for column of the old schema: nothing lost or changed.
          const upgraded = dump(file, old.columns);
          for (const table of TABLES) assert.deepEqual(upgraded.rows.get(table), old.rows.get(table), `table ${table}`);
        });

        it('works as a current database after the upgrade', () => {
          const file = copyOf(version);
          const store = SqliteStore.open(file);
          try {
            const sweep = store.getSweep('legacy');
            const [done, broken, waiting, orphan] = store.listRuns(sweep.pk);
            assert.deepEqual(done!.excludedGpus, [1]);
            assert.deepEqual(done!.summary, { best: 1.25 });
            assert.equal(done!.lastStep, 4);
            assert.deepEqual(
              store.series(done!.pk, 'grad_norm').map((p) => p.value),
              [Infinity, -Infinity],
            );
            assert.deepEqual(
              store.events(done!.pk).map((e) => e.kind),
              ['started', 'finished'],
            );
            assert.deepEqual(
              store.transitions(broken!.pk).map((t) => t.to),
              ['queued', 'running', 'failed'],
            );
            assert.equal(broken!.stderrTail, 'Traceback: boom');
            assert.equal(store.getOrchestrator('host:2:dead')!.endedAt, null);
            // The new states and columns are there for old runs.
            assert.ok(store.claimRun(waiting!.pk, 'me', 'cpu0', null));
            assert.ok(store.finishRun(waiting!.pk, 'me', { status: 'pruned', reason: 'pruned: test', pruneRung: 2 }));
            assert.equal(store.getRun(waiting!.pk).pruneRung, 2);
            assert.ok(store.markOrphaned(orphan!.pk, 'host:2:dead', 'the sweep process died'));
            assert.ok(store.requeueRun(broken!.pk, ['failed'], 'resumed after failed'));
            store.ingest([
              {
                runPk: done!.pk,
                attempt: 1,
                metrics: [{ key: 'new/key', step: 9, value: 1, time: 1 }],
                events: [],
                offset: 600,
                lines: 1,
                badLines: 0,
              },
            ]);
            assert.deepEqual(store.metricKeys(done!.pk), ['grad_norm', 'new/key', 'train/loss', 'val/loss']);
          } finally {
            store.close();
          }
        });
      },
    );
  }
});
