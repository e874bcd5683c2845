// The real binary: `sweep serve` prints its URL, serves the sweeps, and stops cleanly on SIGINT.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { SqliteStore } from '../../src/store/index.js';
import { CLI, tempDir } from '../helpers.js';

test('sweep serve prints its URL, answers, and exits 0 on Ctrl-C', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const store = SqliteStore.open(join(dir, 'runs', 'sweeps.db'));
  store.registerSweep({ name: 'cli', specPath: null, spec: {}, specHash: 'x', runsDir: join(dir, 'runs') });
  store.close();
  const child = execa(process.execPath, [CLI, 'serve', '--port', '0'], {
    cwd: dir,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
      if (match) resolve(match[0]);
    });
    void child.then((r) => reject(new Error(`exited early: ${r.all}`)));
  });
  const response = await fetch(`${url}api/sweeps`);
  assert.equal(response.status, 200);
  assert.deepEqual(
    ((await response.json()) as { name: string }[]).map((s) => s.name),
    ['cli'],
  );
  child.kill('SIGINT');
  const result = await child;
  assert.equal(result.exitCode, 0, result.all);
  assert.match(result.stdout, /stopped/);
});

test('sweep serve without a database says so and exits 2', { timeout: 30_000 }, async () => {
  const result = await execa(process.execPath, [CLI, 'serve'], {
    cwd: tempDir(),
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  assert.equal(result.exitCode, 2);
  assert.match(result.all ?? '', /no database at .*sweeps\.db/);
});
