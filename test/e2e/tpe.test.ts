// TPE through the real CLI with the fixture trainer's synthetic objective (best at x = 0.3):
// proposals made as slots free, with ASHA stopping poor runs; resumed after an interruption.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { CLI, cli, openStore, tempDir, waitFor, writeSweep } from '../helpers.js';

const sweep = (samples: number, metric = 'synthetic/loss', slots = 2, stepMs = 15): string => `name: tpe
trainer: { command: [node, $TRAINER] }
base: { steps: 20, step_ms: ${stepMs} }
grid:
  x: { uniform: [0, 1] }
  batch_size: [32, 64]
search: { strategy: tpe, samples: ${samples}, seed: 3, metric: ${metric}, mode: min, startup: 4 }
early_termination: { type: asha, metric: synthetic/loss, mode: min, grace: 3, reduction: 3 }
resources: { gpus: none, cpu_slots: ${slots} }
kill_grace: 2s
`;

describe('TPE search end to end', () => {
  it(
    'proposes runs from finished results, with ASHA, shows origins, and resumes without re-proposing',
    { timeout: 240_000 },
    async () => {
      const dir = tempDir();
      // One slot: which runs ASHA stops depends on the order results arrive in, which two slots
      // leave to timing (TPE's proposals can all improve on the runs before them). Steps of 80 ms:
      // the recorder polls every 200 ms, so a run must outlast its last rung (step 9) by several
      // polls for ASHA to see it before it ends; at 15 ms a run was over in 0.3 s and on a quiet
      // machine ASHA saw too few rungs in time to stop any (seen in CI).
      writeSweep(dir, sweep(14, 'synthetic/loss', 1, 80));
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(result.exitCode, 0, result.all);
      const store = openStore(dir);
      const runs = store.listRuns(store.getSweep('tpe').pk);
      assert.equal(runs.length, 14);
      assert.equal(new Set(runs.map((r) => r.id)).size, 14);
      const random = runs.filter((r) => r.origin === 'random');
      const tpe = runs.filter((r) => r.origin === 'tpe');
      // Random until 4 runs finished.
      assert.equal(random.length, 4, `random start-up runs: ${random.length}`);
      assert.equal(random.length + tpe.length, 14);
      assert.deepEqual(
        runs.slice(0, random.length).map((r) => r.origin),
        random.map(() => 'random'),
        'start-up runs come first',
      );
      assert.ok(
        runs.some((r) => r.status === 'pruned'),
        'ASHA stopped some runs',
      );
      assert.ok(
        runs.every((r) => r.status === 'completed' || r.status === 'pruned'),
        runs.map((r) => `${r.name} ${r.status} ${r.reason}`).join('\n'),
      );
      store.close();

      const status = await cli(['status', 'tpe'], { cwd: dir });
      assert.match(status.stdout, /origin/);
      assert.match(status.stdout, / random /);
      assert.match(status.stdout, / tpe /);
      const json = JSON.parse((await cli(['status', 'tpe', '--json'], { cwd: dir })).stdout) as {
        runs: { origin: string }[];
      };
      assert.equal(json.runs.filter((r) => r.origin === 'tpe').length, tpe.length);

      // Run again: every proposal counts toward samples, nothing new is proposed.
      const again = await cli(['run', 'sweep.yaml', '--json'], { cwd: dir });
      assert.equal(again.exitCode, 0, again.all);
      const plan = again.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'plan');
      assert.equal(plan.toRun, 0);
      const after = openStore(dir);
      assert.equal(after.listRuns(after.getSweep('tpe').pk).length, 14);
      after.close();

      const report = await cli(['report', 'tpe', '--format', 'json,html,png'], { cwd: dir });
      assert.equal(report.exitCode, 0, report.all);
      const model = JSON.parse(readFileSync(join(dir, 'reports', 'tpe', 'report.json'), 'utf8')) as {
        search: { metric: string; trials: { origin: string; value: number | null; best: number | null }[] };
        runs: { origin: string }[];
      };
      assert.equal(model.search.metric, 'synthetic/loss');
      assert.equal(model.search.trials.length, 14);
      assert.deepEqual(
        model.search.trials.map((t) => t.origin),
        runs.map((r) => r.origin),
      );
      let best = Infinity;
      for (const t of model.search.trials) {
        if (t.value !== null) best = Math.min(best, t.value);
        assert.equal(t.best, best === Infinity ? null : best, 'best so far is the running minimum');
      }
      assert.equal(model.runs.filter((r) => r.origin === 'tpe').length, tpe.length);
      const html = readFileSync(join(dir, 'reports', 'tpe', 'index.html'), 'utf8');
      assert.match(
        html,
        /TPE search on <code>synthetic\/loss<\/code> \(min\): \d random start-up run\(s\), \d+ proposed by TPE; best /,
      );
      assert.ok(
        html.includes('<span class="tag">random start-up</span>') && html.includes('<span class="tag">TPE</span>'),
      );
      const png = await sharp(join(dir, 'reports', 'tpe', 'search.png')).metadata();
      assert.ok((png.width ?? 0) > 100 && (png.height ?? 0) > 100, 'the best-so-far chart is a real PNG');
    },
  );

  it('resumes an interrupted search where it stopped, losing and repeating no run', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    writeSweep(dir, sweep(10));
    const child = spawn(process.execPath, [CLI, 'run', 'sweep.yaml'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => {
      try {
        const store = openStore(dir);
        try {
          return (
            store.listRuns(store.getSweep('tpe').pk).filter((r) => r.status === 'completed' || r.status === 'pruned')
              .length >= 5
          );
        } finally {
          store.close();
        }
      } catch {
        return false;
      }
    }, 'five finished runs');
    child.kill('SIGINT');
    await exited;
    const store = openStore(dir);
    const before = store.listRuns(store.getSweep('tpe').pk);
    store.close();
    assert.ok(before.length < 10, `interrupted before the end (${before.length} runs)`);

    const resumed = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(resumed.exitCode, 0, resumed.all);
    const final = openStore(dir);
    const runs = final.listRuns(final.getSweep('tpe').pk);
    final.close();
    assert.equal(runs.length, 10, 'runs before the interruption count toward samples');
    assert.equal(new Set(runs.map((r) => r.id)).size, 10);
    for (const run of before) {
      const now = runs.find((r) => r.id === run.id);
      assert.ok(now, `${run.name} is kept`);
      if (run.status === 'completed' || run.status === 'pruned')
        assert.equal(now.status, run.status, `${run.name} is not re-run`);
      else
        assert.ok(
          now.status === 'completed' || now.status === 'pruned',
          `${run.name} (${run.status} when interrupted) ran on resume`,
        );
    }
  });

  it(
    'fails clearly when no finished run reports the objective, and stops proposing',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(
        dir,
        sweep(8, 'nope/loss')
          .replace('step_ms: 15', 'step_ms: 0')
          .replace(/early_termination.*\n/, ''),
      );
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(result.exitCode, 2, result.all);
      assert.match(
        result.all,
        /search\.metric: \d+ run\(s\) completed and none reported "nope\/loss"; recorded: .*synthetic\/loss/,
      );
      const store = openStore(dir);
      assert.ok(
        store.listRuns(store.getSweep('tpe').pk).length <= 3,
        'no run is proposed once the objective is known to be missing',
      );
      store.close();
    },
  );
});
