// A full disk under the database or under the run folders: the sweep stops its children, leaves
// the database consistent, says in one line that the disk is full and where, and exits 3; a resume
// once space is freed finishes every run with every metric line (issue 13, fault 3). Needs root
// to mount a small tmpfs; skipped with a message otherwise.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, openSync, readFileSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { parseMetricsLine } from '../../src/protocol/lines.js';
import { openReader } from '../../src/store/index.js';
import { cli, pidAlive, tempDir, waitFor, writeSweep } from '../helpers.js';

const asRoot = process.getuid?.() === 0;
const skip = asRoot ? false : 'needs root to mount a small tmpfs (run the tests as root)';

async function mountTmpfs(dir: string, size: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

async function unmount(dir: string): Promise<void> {
  await execa('umount', [dir], { reject: false });
}

/** Writes to `file` until the filesystem is full. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

function probe(runDir: string, attempt: number): { pid: number } | null {
  const file = join(runDir, `probe-${attempt}.json`);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
  } catch {
    return null;
  }
}

function runDirOf(db: string, sweep: string, name: string): string | null {
  if (!existsSync(db)) return null;
  const store = openReader(db);
  try {
    return store.listRuns(store.getSweep(sweep).pk).find((r) => r.name === name)?.runDir ?? null;
  } finally {
    store.close();
  }
}

/** Every run completed, and each (key, step) of its metrics file is in the store. */
function assertEverythingRecorded(db: string, sweep: string): void {
  const store = openReader(db);
  try {
    for (const run of store.listRuns(store.getSweep(sweep).pk)) {
      assert.equal(run.status, 'completed', run.name);
      const expected = new Set<string>();
      for (const line of readFileSync(join(run.runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
        const parsed = parseMetricsLine(line);
        if (parsed.type === 'metrics') for (const [key] of parsed.values) expected.add(`${key}@${parsed.step}`);
      }
      assert.equal(store.countMetrics(run.pk), expected.size, run.name);
    }
  } finally {
    store.close();
  }
}

function assertConsistent(db: string): void {
  const raw = new Database(db, { readonly: true });
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    raw.close();
  }
}

describe('a full disk', { skip }, () => {
  it(
    'under the database: stops the children, exits 3 naming the database; a resume recovers everything',
    { timeout: 240_000 },
    async () => {
      const dir = tempDir();
      const dbDir = join(dir, 'dbfs');
      await mountTmpfs(dbDir, '2m');
      try {
        const db = join(dbDir, 'sweeps.db');
        writeSweep(
          dir,
          `name: dbfull
trainer: { command: [node, $TRAINER] }
configs:
  - { name: writer, steps: 30000 }
  - { name: sleeper, steps: 3, hang_attempts: 1 }
resources: { gpus: none, cpu_slots: 2 }
kill_grace: 2s
`,
        );
        const first = await cli(['run', 'sweep.yaml', '--db', db], { cwd: dir });
        assert.equal(first.exitCode, 3, first.all);
        const stderr = first.stderr.trim().split('\n');
        assert.equal(stderr.length, 1, first.stderr);
        assert.match(
          stderr[0]!,
          new RegExp(
            `^sweep: the disk is full: could not write ${db.replaceAll('.', '\\.')}; .*run the same command again`,
          ),
        );
        const sleeper = probe(runDirOf(db, 'dbfull', 'sleeper')!, 1);
        assert.ok(sleeper, 'the sleeper had started');
        assert.equal(pidAlive(sleeper.pid), false, 'its child was stopped');
        assertConsistent(db);

        await execa('mount', ['-o', 'remount,size=256m', dbDir]);
        const second = await cli(['run', 'sweep.yaml', '--db', db], { cwd: dir });
        assert.equal(second.exitCode, 0, second.all);
        assertEverythingRecorded(db, 'dbfull');
      } finally {
        await unmount(dbDir);
      }
    },
  );

  it(
    'under the run folders: stops the children, exits 3 naming the file; a resume recovers everything',
    { timeout: 240_000 },
    async () => {
      const dir = tempDir();
      const runsDir = join(dir, 'runsfs');
      await mountTmpfs(runsDir, '4m');
      try {
        const db = join(dir, 'sweeps.db');
        writeSweep(
          dir,
          `name: runsfull
trainer: { command: [node, $TRAINER] }
configs:
  - { name: sleeper, steps: 3, hang_attempts: 1 }
  - { name: quick-a, steps: 40, step_ms: 25 }
  - { name: quick-b, steps: 40 }
resources: { gpus: none, cpu_slots: 2 }
kill_grace: 2s
`,
        );
        const first = cli(['run', 'sweep.yaml', '--db', db, '--runs-dir', runsDir], { cwd: dir });
        // Both slots busy (the sleeper hangs, quick-a trains): then the disk fills up.
        await waitFor(() => {
          const a = runDirOf(db, 'runsfull', 'quick-a');
          const s = runDirOf(db, 'runsfull', 'sleeper');
          return a !== null && s !== null && probe(a, 1) !== null && probe(s, 1) !== null;
        }, 'two runs started');
        const filler = join(runsDir, 'filler');
        fill(filler);
        const result = await first;
        assert.equal(result.exitCode, 3, result.all);
        const stderr = result.stderr.trim().split('\n');
        assert.equal(stderr.length, 1, result.stderr);
        assert.match(stderr[0]!, new RegExp(`^sweep: the disk is full: could not write ${runsDir}/`));
        const sleeper = probe(runDirOf(db, 'runsfull', 'sleeper')!, 1)!;
        assert.equal(pidAlive(sleeper.pid), false, 'its child was stopped');
        assertConsistent(db);

        rmSync(filler);
        const second = await cli(['run', 'sweep.yaml', '--db', db, '--runs-dir', runsDir], { cwd: dir });
        assert.equal(second.exitCode, 0, second.all);
        assertEverythingRecorded(db, 'runsfull');
      } finally {
        await unmount(runsDir);
      }
    },
  );
});
