// Database files a user may point clipsweep at, through the real binary: one line naming the file
// and what to do, the right exit code, and a user's file left exactly as it was.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli, openStore, ROOT, tempDir, writeSweep } from '../helpers.js';

const SWEEP =
  'name: tiny\ntrainer: { command: [node, $TRAINER] }\nbase: { steps: 3 }\ngrid: { lr: [0.1] }\nresources: { gpus: none, cpu_slots: 1 }\n';
const READERS = (db: string) => [
  ['status', '--db', db],
  ['ls', '--db', db],
  ['export', 'tiny', '--db', db],
  ['report', '--db', db, '--out', 'report'],
];

function folderState(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((n) => n.endsWith('.db') || n.includes('.db-'))
      .map((n) => [
        n,
        createHash('sha256')
          .update(readFileSync(join(dir, n)))
          .digest('hex'),
      ]),
  );
}

/** One line on stderr, `sweep: <file>: ...`, and no stack trace. */
function assertOneLine(stderr: string, file: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.ok(lines[0]!.startsWith(`sweep: ${file}: `), stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /internal error| {4}at /);
}

describe('database files that are not (or no longer) a usable clipsweep database', () => {
  it(
    "a user's own SQLite file: every command refuses it (exit 2) and changes nothing",
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(dir, SWEEP);
      const file = join(dir, 'notes.db');
      const db = new Database(file);
      db.exec(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, note TEXT); CREATE TABLE notes (body TEXT); INSERT INTO runs (note) VALUES ('mine')",
      );
      db.close();
      const before = folderState(dir);
      for (const args of [...READERS('notes.db'), ['run', 'sweep.yaml', '--db', 'notes.db']]) {
        const result = await cli(args, { cwd: dir });
        assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.all}`);
        assertOneLine(
          result.stderr,
          file,
          /not a clipsweep database \(it holds tables notes, runs\); clipsweep leaves it as it is: pass --db/,
        );
        assert.doesNotMatch(result.stderr, /already exists/);
      }
      assert.deepEqual(folderState(dir), before, 'not a byte written, no -wal or -shm left');
    },
  );

  it(
    'a 0-byte file: readers leave it empty (exit 2); sweep run makes it a database',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(dir, SWEEP);
      const file = join(dir, 'empty.db');
      writeFileSync(file, '');
      for (const args of READERS('empty.db')) {
        const result = await cli(args, { cwd: dir });
        assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.all}`);
        assert.match(result.stderr, /empty\.db is empty: no sweep has run with it yet/);
        assert.equal(statSync(file).size, 0);
      }
      const run = await cli(['run', 'sweep.yaml', '--db', 'empty.db', '--quiet'], { cwd: dir });
      assert.equal(run.exitCode, 0, run.all);
      const status = await cli(['status', '--db', 'empty.db', '--json'], { cwd: dir });
      assert.equal(status.exitCode, 0, status.all);
      assert.deepEqual(JSON.parse(status.stdout).sweep.counts, { completed: 1 });
    },
  );

  it(
    'a file of random bytes: "not a SQLite database", exit 2, for readers and the writer',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(dir, SWEEP);
      const file = join(dir, 'random.db');
      writeFileSync(file, randomBytes(16384));
      const before = folderState(dir);
      for (const args of [...READERS('random.db'), ['run', 'sweep.yaml', '--db', 'random.db']]) {
        const result = await cli(args, { cwd: dir });
        assert.equal(result.exitCode, 2, `${args.join(' ')}: ${result.all}`);
        assertOneLine(
          result.stderr,
          file,
          /not a SQLite database \(file is not a database\); pass --db with clipsweep's database/,
        );
      }
      assert.deepEqual(folderState(dir), before);
    },
  );

  it(
    'a clipsweep database with a dropped table: damaged, exit 3, for readers and the writer',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(dir, SWEEP);
      const run = await cli(['run', 'sweep.yaml', '--quiet'], { cwd: dir });
      assert.equal(run.exitCode, 0, run.all);
      const file = join(dir, 'runs', 'sweeps.db');
      const db = new Database(file);
      db.exec('DROP TABLE run_transitions');
      db.close();
      for (const args of [...READERS(file), ['run', 'sweep.yaml']]) {
        const result = await cli(args, { cwd: dir });
        assert.equal(result.exitCode, 3, `${args.join(' ')}: ${result.all}`);
        assertOneLine(
          result.stderr,
          file,
          /the clipsweep database is damaged: table run_transitions missing; restore it from a backup/,
        );
      }
    },
  );

  it(
    'a database from an older clipsweep: readers read it as it is, without migrating it',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const file = join(dir, 'old.db');
      copyFileSync(join(ROOT, 'test/store/fixtures/v1.db'), file);
      const before = readFileSync(file);
      const status = await cli(['status', 'legacy', '--db', 'old.db', '--json'], { cwd: dir });
      assert.equal(status.exitCode, 0, status.all);
      assert.deepEqual(
        JSON.parse(status.stdout).runs.map((r: { name: string; job_id: unknown }) => [r.name, r.job_id]),
        [
          ['done', null],
          ['broken', null],
          ['waiting', null],
          ['orphan', null],
        ],
      );
      const ls = await cli(['ls', '--db', 'old.db'], { cwd: dir });
      assert.equal(ls.exitCode, 0, ls.all);
      assert.ok(readFileSync(file).equals(before), 'read, not migrated');
    },
  );

  it(
    'an immutable database (root only): sweep run says so, exit 3; status still reads it',
    { timeout: 120_000, skip: process.getuid?.() === 0 ? false : 'needs root (chattr +i); run the tests as root' },
    async (t) => {
      const dir = tempDir();
      writeSweep(dir, SWEEP);
      const first = await cli(['run', 'sweep.yaml', '--quiet'], { cwd: dir });
      assert.equal(first.exitCode, 0, first.all);
      const file = join(dir, 'runs', 'sweeps.db');
      try {
        execFileSync('chattr', ['+i', file], { stdio: 'pipe' });
      } catch (error) {
        t.skip(`chattr +i is not supported here: ${(error as Error).message.split('\n')[0]}`);
        return;
      }
      try {
        const run = await cli(['run', 'sweep.yaml'], { cwd: dir });
        assert.equal(run.exitCode, 3, run.all);
        assertOneLine(run.stderr, file, /sweep run cannot write the database: the file is marked immutable/);
        const status = await cli(['status'], { cwd: dir });
        assert.equal(status.exitCode, 0, status.all);
        assert.match(status.stdout, /sweep tiny +\(1 completed\)/);
      } finally {
        execFileSync('chattr', ['-i', file]);
      }
      const store = openStore(dir);
      assert.equal(store.listRuns(store.getSweep('tiny').pk).length, 1, 'writable again once chattr -i');
      store.close();
    },
  );
});
