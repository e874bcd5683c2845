// What is particular to the SQLite files: how they are opened, marked and refused. The role
// contract is in contract-sqlite.test.ts, upgrades from old files in migrations.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DatabaseUnusableError, NotClipsweepDatabaseError, NotFoundError } from '../../src/errors.js';
import { exitCodeForError } from '../../src/cli/exit-codes.js';
import { openReader } from '../../src/store/index.js';
import { APPLICATION_ID, MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers.js';

function freshFile(): string {
  const file = join(tempDir(), 'nested', 'sweeps.db');
  const store = SqliteStore.open(file);
  const sweep = store.registerSweep({
    name: 's',
    specPath: '/x.yaml',
    spec: { a: 1 },
    specHash: 'h',
    runsDir: '/runs',
  });
  store.registerRuns(sweep.pk, [{ id: 'r1', name: 'one', params: { lr: 1 }, ordinal: 0, runDir: '/runs/s/r1' }]);
  store.close();
  return file;
}

/** A user's own SQLite file, with a table named like one of clipsweep's. */
function notesDb(): string {
  const file = join(tempDir(), 'notes.db');
  const db = new Database(file);
  db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO runs (note) VALUES ('mine')");
  db.close();
  return file;
}

/** Every file of the folder with its bytes' hash: what a reader must leave as it found it. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir).map((name) => [
      name,
      createHash('sha256')
        .update(readFileSync(join(dir, name)))
        .digest('hex'),
    ]),
  );
}

function dirOf(file: string): string {
  return join(file, '..');
}

describe('SQLite store files', () => {
  it('creates the file in WAL mode, with a versioned schema and the clipsweep mark', () => {
    const db = new Database(freshFile(), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    db.close();
  });

  it('refuses a database from a newer schema, writer and reader alike', () => {
    const file = freshFile();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => SqliteStore.open(file), /schema version 99, newer than this clipsweep understands/);
    assert.throws(
      () => openReader(file),
      (e: unknown) => e instanceof DatabaseUnusableError && /upgrade clipsweep/.test(e.message),
    );
  });

  it("refuses a user's own database, naming it, and writes nothing to it", () => {
    const file = notesDb();
    const before = snapshot(dirOf(file));
    for (const open of [() => SqliteStore.open(file), () => openReader(file)]) {
      assert.throws(
        open,
        (e: unknown) =>
          e instanceof NotClipsweepDatabaseError &&
          e.message.startsWith(`${file}: not a clipsweep database (it holds tables runs)`),
      );
    }
    assert.deepEqual(snapshot(dirOf(file)), before, 'no byte changed, no file added');
    assert.equal(exitCodeForError(new NotClipsweepDatabaseError(file, 'x')), 2);
  });

  it('lets the writer initialise a 0-byte file; a reader leaves it at 0 bytes', () => {
    const file = join(tempDir(), 'empty.db');
    writeFileSync(file, '');
    assert.throws(
      () => openReader(file),
      (e: unknown) => e instanceof NotFoundError && /is empty: no sweep has run with it yet/.test(e.message),
    );
    assert.equal(statSync(file).size, 0);
    assert.deepEqual(readdirSync(dirOf(file)), ['empty.db']);
    const store = SqliteStore.open(file);
    store.registerSweep({ name: 's', specPath: null, spec: {}, specHash: 'h', runsDir: '/r' });
    store.close();
    const reader = openReader(file);
    assert.equal(reader.getSweep('s').name, 's');
    reader.close();
  });

  it('tells a reader there is no database, and creates none', () => {
    const dir = tempDir();
    const file = join(dir, 'runs', 'sweeps.db');
    assert.throws(
      () => openReader(file),
      (e: unknown) =>
        e instanceof NotFoundError &&
        e.message === `no database at ${file}: run a sweep first (sweep run), or pass --db`,
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses a file of random bytes as "not a SQLite database", exit code 2, unchanged', () => {
    const file = join(tempDir(), 'random.db');
    writeFileSync(file, randomBytes(8192));
    const before = snapshot(dirOf(file));
    for (const open of [() => SqliteStore.open(file), () => openReader(file)]) {
      assert.throws(open, (e: unknown) => {
        assert.ok(e instanceof NotClipsweepDatabaseError, String(e));
        assert.match(e.message, new RegExp(`^${file}: not a SQLite database \\(file is not a database\\); pass --db`));
        assert.equal(exitCodeForError(e), 2);
        return true;
      });
    }
    assert.deepEqual(snapshot(dirOf(file)), before);
  });

  it('calls a clipsweep database with a dropped table damaged, exit code 3', () => {
    const file = freshFile();
    const db = new Database(file);
    db.exec('DROP TABLE metrics');
    db.close();
    for (const open of [() => SqliteStore.open(file), () => openReader(file)]) {
      assert.throws(open, (e: unknown) => {
        assert.ok(e instanceof DatabaseUnusableError, String(e));
        assert.equal(
          e.message,
          `${file}: the clipsweep database is damaged: table metrics missing; restore it from a backup, or move it away and pass --db for a new one`,
        );
        assert.equal(exitCodeForError(e), 3);
        return true;
      });
    }
  });

  describe('files clipsweep may not write (root only: chattr, mount)', () => {
    const root = process.getuid?.() === 0;
    const mounts: string[] = [];
    after(() => {
      for (const dir of mounts) execFileSync('umount', [dir]);
    });

    it(
      'an immutable database: the writer says so and exits 3; a reader reads it',
      { skip: root ? false : 'needs root (chattr +i); run the tests as root' },
      (t) => {
        const file = freshFile();
        try {
          execFileSync('chattr', ['+i', file], { stdio: 'pipe' });
        } catch (error) {
          t.skip(`chattr +i is not supported here: ${(error as Error).message.split('\n')[0]}`);
          return;
        }
        try {
          assert.throws(
            () => SqliteStore.open(file),
            (e: unknown) => {
              assert.ok(e instanceof DatabaseUnusableError, String(e));
              assert.match(
                e.message,
                new RegExp(
                  `^${file}: sweep run cannot write the database: the file is marked immutable \\(lsattr shows "i"; chattr -i clears it\\)`,
                ),
              );
              assert.equal(exitCodeForError(e), 3);
              return true;
            },
          );
          const reader = openReader(file);
          assert.equal(reader.listRuns(reader.getSweep('s').pk).length, 1);
          reader.close();
        } finally {
          execFileSync('chattr', ['-i', file]);
        }
      },
    );

    it(
      'a database on a read-only mount: the writer says so and exits 3; a reader says what to do',
      { skip: root ? false : 'needs root (mount); run the tests as root' },
      (t) => {
        const source = freshFile();
        const dir = join(tempDir(), 'ro');
        mkdirSync(dir);
        try {
          execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
        } catch (error) {
          t.skip(`cannot mount a tmpfs here: ${(error as Error).message.split('\n')[0]}`);
          return;
        }
        mounts.push(dir);
        const file = join(dir, 'sweeps.db');
        copyFileSync(source, file);
        execFileSync('mount', ['-o', 'remount,ro', dir]);
        assert.throws(
          () => SqliteStore.open(file),
          (e: unknown) => {
            assert.ok(e instanceof DatabaseUnusableError, String(e));
            assert.match(
              e.message,
              new RegExp(
                `^${file}: sweep run cannot write the database: the file is on a read-only file system; make it writable or pass --db`,
              ),
            );
            assert.equal(exitCodeForError(e), 3);
            return true;
          },
        );
        // SQLite cannot read a WAL database on read-only media without its -shm file beside it.
        assert.throws(
          () => openReader(file),
          (e: unknown) =>
            e instanceof DatabaseUnusableError &&
            /copy the database to a writable folder and pass --db/.test(e.message),
        );
        assert.deepEqual(readdirSync(dir), ['sweeps.db']);
      },
    );
  });
});
