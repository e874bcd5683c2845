// End to end through the real binary: real child processes, a real SQLite file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, openStore, tempDir, writeSweep } from '../helpers.js';

describe('sweep run: a sweep that goes well', () => {
  it(
    'runs every run as a child with the protocol environment and records its metrics',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(
        dir,
        `name: happy
trainer: { command: [node, $TRAINER] }
base: { steps: 6 }
grid:
  lr: [0.001, 0.01]
  batch_size: [32, 64]
configs:
  - { name: "odd name; rm -rf /", lr: 0.5, batch_size: 8 }
resources: { gpus: none, cpu_slots: 2 }
`,
      );
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(result.exitCode, 0, result.all);
      assert.match(result.all, /runs: +.*runs\/happy/);
      const store = openStore(dir);
      const sweep = store.getSweep('happy');
      const runs = store.listRuns(sweep.pk);
      assert.equal(runs.length, 5);
      for (const run of runs) {
        assert.equal(run.status, 'completed', `${run.name}: ${run.reason}`);
        assert.equal(run.runDir, join(dir, 'runs', 'happy', run.id));
        const probe = JSON.parse(readFileSync(join(run.runDir, 'probe-1.json'), 'utf8'));
        assert.equal(probe.gpu, '', 'a CPU slot hides every GPU');
        assert.equal(probe.env.SWEEP_RUN_ID, run.id);
        assert.equal(probe.env.SWEEP_RUN_DIR, run.runDir);
        assert.equal(probe.env.SWEEP_METRICS_FILE, join(run.runDir, 'metrics.jsonl'));
        assert.equal(probe.env.SWEEP_CHECKPOINT_DIR, join(run.runDir, 'checkpoints'));
        assert.deepEqual(JSON.parse(probe.env.SWEEP_PARAMS), run.params);
        for (const file of ['config.json', 'stdout.log', 'stderr.log', 'metrics.jsonl'])
          assert.ok(existsSync(join(run.runDir, file)), file);
        const config = JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8'));
        assert.deepEqual(config.params, run.params);
        // 6 steps x 3 metrics, then val/loss and R@1 at step 6.
        assert.equal(store.countMetrics(run.pk), 20);
        assert.equal(store.series(run.pk, 'train/loss').length, 6);
        assert.equal(run.totalSteps, 6);
        assert.deepEqual(
          store.events(run.pk).map((e) => e.kind),
          ['started', 'finished'],
        );
        assert.deepEqual(run.summary, { steps: 6 });
      }
      assert.equal(runs.find((r) => r.name === 'odd name; rm -rf /')?.params.lr, 0.5, 'a hostile name is only a name');
      store.close();

      // The same file again: nothing left to do.
      const again = await cli(['run', 'sweep.yaml', '--json'], { cwd: dir });
      assert.equal(again.exitCode, 0, again.all);
      const plan = again.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'plan');
      assert.equal(plan.toRun, 0);
      assert.equal(plan.skipped.length, 5);

      // --rerun starts over; the old folders are archived, not deleted.
      const rerun = await cli(['run', 'sweep.yaml', '--rerun', '--quiet'], { cwd: dir });
      assert.equal(rerun.exitCode, 0, rerun.all);
      assert.equal(rerun.stdout.includes('start'), false, '--quiet prints no progress');
      assert.equal(readdirSync(join(dir, 'runs', 'happy', '.archive')).length, 5);
      const after = openStore(dir);
      for (const run of after.listRuns(after.getSweep('happy').pk)) {
        assert.equal(run.status, 'completed');
        assert.equal(run.attempt, 2);
        assert.equal(after.countMetrics(run.pk), 20, 'no rows of the old attempt linger');
      }
      after.close();
    },
  );
});

describe('sweep run: runs that go wrong are data, and the sweep goes on', () => {
  it('fails, retries, times out, and recognises out-of-memory without retrying it', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      `name: trouble
trainer: { command: [node, $TRAINER] }
base: { steps: 4 }
configs:
  - { name: fine }
  - { name: crash, mode: crash }
  - { name: flaky, fail_attempts: 1 }
  - { name: hang, mode: hang }
  - { name: segv, mode: segv }
  - { name: oom, mode: oom }
  - { name: garbage, mode: bad-lines }
resources: { gpus: none, cpu_slots: 2 }
retries: 1
timeout: 4s
kill_grace: 1s
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 1, result.all);
    const store = openStore(dir);
    const byName = new Map(store.listRuns(store.getSweep('trouble').pk).map((r) => [r.name, r]));
    const run = (name: string) => byName.get(name)!;
    assert.equal(run('fine').status, 'completed');
    assert.equal(run('crash').status, 'failed');
    assert.equal(run('crash').attempt, 2, 'retried once');
    assert.equal(run('crash').failureKind, 'exit');
    assert.equal(run('crash').exitCode, 3);
    assert.match(run('crash').stderrTail ?? '', /ValueError: boom/);
    assert.doesNotMatch(
      run('crash').stderrTail ?? '',
      /[\s\S]*boom[\s\S]*boom/,
      'the tail is of the last attempt only',
    );
    assert.equal(run('flaky').status, 'completed');
    assert.equal(run('flaky').attempt, 2);
    assert.ok(
      store.transitions(run('flaky').pk).some((t) => /attempt 1 failed: exited with code 4/.test(t.detail ?? '')),
    );
    assert.equal(run('hang').status, 'failed');
    assert.equal(run('hang').failureKind, 'timeout');
    assert.match(run('hang').reason ?? '', /exceeded the timeout of 4s/);
    assert.equal(run('segv').failureKind, 'signal');
    assert.equal(run('segv').signal, 'SIGSEGV');
    assert.equal(run('oom').status, 'infeasible');
    assert.equal(run('oom').attempt, 1, 'out of memory is not retried blindly');
    assert.match(run('oom').reason ?? '', /out of memory: RuntimeError: CUDA out of memory/);
    const garbage = run('garbage');
    assert.equal(garbage.status, 'completed');
    assert.equal(garbage.badLines, 3);
    assert.match(
      readFileSync(join(garbage.runDir, 'ingest-problems.log'), 'utf8'),
      /^line 2 \(byte \d+\): not JSON: this is not json$/m,
    );
    assert.ok(Number.isNaN(store.series(garbage.pk, 'val/loss')[0]!.value));
    assert.equal(store.series(garbage.pk, 'grad_norm')[0]!.value, Infinity);
    assert.equal(store.series(garbage.pk, 'neg')[0]!.value, -Infinity);
    store.close();

    // status --json for scripts: NaN survives as a string.
    const status = await cli(['status', 'trouble', '--json'], { cwd: dir });
    assert.equal(status.exitCode, 0);
    const doc = JSON.parse(status.stdout);
    assert.equal(doc.sweep.name, 'trouble');
    const g = doc.runs.find((r: { name: string }) => r.name === 'garbage');
    assert.equal(g.latest.neg, '-Infinity');
    assert.equal(g.latest.s, 'NaN');
    assert.deepEqual(Object.keys(doc.runs[0]).slice(0, 4), ['id', 'name', 'status', 'params']);

    // A second run of the file re-runs failed ones (not infeasible, not completed) by default.
    const second = await cli(['run', 'sweep.yaml', '--json', '--no-retry-failed'], { cwd: dir });
    const plan = second.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'plan');
    assert.equal(plan.toRun, 0);
  });

  it('a trainer that cannot start is a failed run with the reason', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      'name: nostart\ntrainer: { command: [/no/such/trainer] }\nconfigs: [{ name: a }]\nresources: { gpus: none }\n',
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 1, result.all);
    const store = openStore(dir);
    const [run] = store.listRuns(store.getSweep('nostart').pk);
    assert.equal(run!.failureKind, 'spawn');
    assert.match(run!.reason ?? '', /could not start the trainer: .*ENOENT/);
    store.close();
  });
});
