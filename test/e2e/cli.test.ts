// The CLI as a user meets it: exit codes, messages, the plan, exports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { CLI, cli, tempDir, writeSweep } from '../helpers.js';

describe('sweep CLI', () => {
  it('bad input: exit 2, the file, the key path and what was expected; nothing runs', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      'name: ../escape\ntrainer: builtin\ngrid:\n  lr: [0]\n  batch_size: [64, -1]\nretries: -2\nextra: 1\n',
      'bad.yaml',
    );
    const result = await cli(['run', 'bad.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /bad\.yaml: \d+ problems/);
    assert.match(result.stderr, /name \(line 1\): expected a name of 1 to 100 characters: letters/);
    assert.match(result.stderr, /retries \(line 6\): expected number to be >=0, got -2/);
    assert.match(result.stderr, /extra \(line 7\): unknown key "extra"/);
    assert.equal(existsSync(join(dir, 'runs')), false, 'nothing was written');

    writeSweep(dir, 'name: ok\ntrainer: builtin\ngrid:\n  lr: [0]\n  batch_size: [64, -1]\n', 'bad2.yaml');
    const second = await cli(['run', 'bad2.yaml'], { cwd: dir });
    assert.equal(second.exitCode, 2);
    assert.match(second.stderr, /grid\.lr\[0\] \(line 4\): expected a positive number, got 0/);
    assert.match(second.stderr, /grid\.batch_size\[1\] \(line 5\): expected a positive integer, got -1/);

    const missing = await cli(['run', 'nope.yaml'], { cwd: dir });
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /nope\.yaml: cannot read the file/);

    const usage = await cli(['frobnicate'], { cwd: dir });
    assert.equal(usage.exitCode, 2);
    const noDb = await cli(['status'], { cwd: dir });
    assert.equal(noDb.exitCode, 2);
    assert.match(noDb.stderr, /no database at .*sweeps\.db/);
  });

  it('--dry-run prints one row per run and runs nothing; a huge plan needs --force', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeSweep(dir, 'name: plan\ntrainer: builtin\ngrid: { lr: [1e-6, 5e-6], batch_size: [64, 256] }\nseeds: [0, 1]\n');
    const result = await cli(['run', 'sweep.yaml', '--dry-run'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.all);
    const rows = result.stdout.split('\n').filter((l) => /^[0-9a-f]{12} /.test(l));
    assert.equal(rows.length, 8);
    assert.match(rows[0]!, /^[0-9a-f]{12} {2}lr1e-6_bs64_s0 +\{"lr":0.000001,"batch_size":64,"seed":0\}$/);
    assert.match(result.stdout, /8 run\(s\) in sweep plan; nothing was run/);
    assert.equal(existsSync(join(dir, 'runs')), false);
    const json = await cli(['run', 'sweep.yaml', '--dry-run', '--json'], { cwd: dir });
    assert.equal(JSON.parse(json.stdout).runs.length, 8);
    const again = await cli(['run', 'sweep.yaml', '--dry-run'], { cwd: dir });
    assert.deepEqual(again.stdout, result.stdout, 'the same file gives the same ids');

    const values = Array.from({ length: 101 }, (_, i) => i + 1).join(', ');
    writeSweep(
      dir,
      `name: huge\ntrainer: builtin\ngrid: { batch_size: [${values}], steps: [${values}] }\n`,
      'huge.yaml',
    );
    const refused = await cli(['run', 'huge.yaml', '--dry-run'], { cwd: dir });
    assert.equal(refused.exitCode, 2);
    assert.match(refused.stderr, /10201 runs, more than 10000; pass --force/);
    const forced = await cli(['run', 'huge.yaml', '--dry-run', '--force', '--json'], { cwd: dir });
    assert.equal(JSON.parse(forced.stdout).runs.length, 10201);
  });

  it(
    '--dry-run of a 10^6-run grid streams: a reader that stops after three lines ends it quietly',
    { timeout: 60_000 },
    async () => {
      const dir = tempDir();
      const hundred = `[${Array.from({ length: 100 }, (_, i) => i).join(', ')}]`;
      writeSweep(
        dir,
        `name: million\ntrainer: builtin\ngrid: { a: ${hundred}, b: ${hundred}, c: ${hundred} }\n`,
        'm.yaml',
      );
      const child = spawn(process.execPath, [CLI, 'run', 'm.yaml', '--dry-run', '--force'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const lines: string[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(line);
        if (lines.length === 3) break; // closes our end of the pipe, as `| head -3` does
      }
      child.stdout.destroy();
      assert.equal(await exited, 0, stderr);
      assert.equal(stderr, '');
      assert.match(lines[0]!, /^id +name +params$/);
      assert.match(lines[1]!, /^[0-9a-f]{12} {2}a=0_b=0_c=0 +\{"a":0,"b":0,"c":0\}$/);
      assert.match(lines[2]!, /^[0-9a-f]{12} {2}a=0_b=0_c=1 +\{"a":0,"b":0,"c":1\}$/);
    },
  );

  it('export writes every metric row as JSON lines or CSV; ls lists sweeps', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      'name: exp\ntrainer: { command: [node, $TRAINER] }\nbase: { steps: 3 }\nconfigs: [{ name: "a,b \\"quoted\\"" }, { name: nan, mode: bad-lines }]\nresources: { gpus: none }\n',
    );
    const run = await cli(['run', 'sweep.yaml', '--runs-dir', 'out', '--db', 'my.db'], { cwd: dir });
    assert.equal(run.exitCode, 0, run.all);
    assert.ok(existsSync(join(dir, 'my.db')));
    assert.ok(existsSync(join(dir, 'out', 'exp')));
    const jsonl = await cli(['export', 'exp', '--db', 'my.db'], { cwd: dir });
    const rows = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // 3 steps x 3 metrics + 2 at the end, for each run; the bad-lines run adds 4 at step 0 (its
    // "val/loss" at step 0 and "s", "grad_norm", "neg").
    assert.equal(rows.length, 11 + 11 + 4);
    assert.ok(rows.some((r) => r.key === 'grad_norm' && r.value === 'Infinity'));
    assert.deepEqual(Object.keys(rows[0]), ['run_id', 'run_name', 'step', 'key', 'value', 'epoch', 'time']);
    const csv = await cli(['export', 'exp', '--db', 'my.db', '--format', 'csv', '--out', 'm.csv'], { cwd: dir });
    assert.equal(csv.exitCode, 0, csv.all);
    const lines = readFileSync(join(dir, 'm.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'run_id,run_name,step,key,value,epoch,time');
    assert.equal(lines.length, rows.length + 1);
    assert.ok(
      lines.some((l) => l.includes(',"a,b ""quoted""",')),
      'names with commas and quotes are quoted',
    );
    assert.ok(lines.some((l) => /,neg,-Infinity,/.test(l)));
    const ls = await cli(['ls', '--db', 'my.db'], { cwd: dir });
    assert.match(ls.stdout, /^exp +2 +2 +0/m);
    // Another database over the same run folders: the old folders are archived, never read as new.
    const other = await cli(['run', 'sweep.yaml', '--runs-dir', 'out', '--db', 'other.db', '--quiet'], { cwd: dir });
    assert.equal(other.exitCode, 0, other.all);
    assert.equal(readdirSync(join(dir, 'out', 'exp', '.archive')).length, 2);
    const otherRows = await cli(['export', 'exp', '--db', 'other.db'], { cwd: dir });
    assert.equal(otherRows.stdout.trim().split('\n').length, rows.length, 'no stale line was ingested twice');
    const unknown = await cli(['export', 'nope', '--db', 'my.db'], { cwd: dir });
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /no sweep named "nope"/);
  });
});
