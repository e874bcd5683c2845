// Early termination end to end: a test trainer whose validation curve is a known function of its
// parameters, one slot so that runs reach each rung in plan order.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, openStore, tempDir, writeSweep } from '../helpers.js';

describe('early termination', () => {
  it(
    'prunes the runs ASHA says to, gracefully, records why, and never resurrects them',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      writeSweep(
        dir,
        `name: asha
trainer: { command: [node, $TRAINER] }
base: { steps: 100, step_ms: 40 }
configs:
  - { name: good, quality: 1 }
  - { name: fair, quality: 1.2 }
  - { name: poor, quality: 3 }
  - { name: long-warmup-good, quality: 0.5, warmup: 20 }
  - { name: worse, quality: 4 }
early_termination: { type: asha, metric: val/loss, mode: min, grace: 5, reduction: 3 }
resources: { gpus: none, cpu_slots: 1 }
kill_grace: 2s
`,
      );
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(result.exitCode, 0, `pruned runs are not failures\n${result.all}`);
      const store = openStore(dir);
      const byName = new Map(store.listRuns(store.getSweep('asha').pk).map((r) => [r.name, r]));
      for (const name of ['good', 'fair', 'long-warmup-good'])
        assert.equal(byName.get(name)!.status, 'completed', `${name}: ${byName.get(name)!.reason}`);
      for (const name of ['poor', 'worse']) {
        const run = byName.get(name)!;
        assert.equal(run.status, 'pruned', name);
        assert.equal(run.pruneRung, 0);
        assert.match(
          run.reason ?? '',
          /^pruned: asha rung 0 \(5 steps after warmup\): val\/loss .* outside the best 1\/3 of \d runs/,
        );
        assert.ok((run.lastStep ?? 999) < 99, `${name} was stopped before its end (step ${run.lastStep})`);
        assert.ok(existsSync(join(run.runDir, 'sigterm.log')), `${name} got SIGTERM first`);
      }
      assert.match(result.all, /prune poor \(/);
      assert.match(result.all, /2 pruned/);
      store.close();

      const status = await cli(['status', 'asha', '--json'], { cwd: dir });
      const runs = JSON.parse(status.stdout).runs as { name: string; status: string; prune_rung: number | null }[];
      assert.deepEqual(
        runs.filter((r) => r.status === 'pruned').map((r) => [r.name, r.prune_rung]),
        [
          ['poor', 0],
          ['worse', 0],
        ],
      );

      const again = await cli(['run', 'sweep.yaml', '--json'], { cwd: dir });
      const plan = again.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'plan');
      assert.equal(plan.toRun, 0, 'resuming does not resurrect pruned runs');
      assert.ok(plan.skipped.some((s: { name: string; why: string }) => s.name === 'poor' && /^pruned/.test(s.why)));

      const report = await cli(['report', 'asha', '--format', 'json,html'], { cwd: dir });
      assert.equal(report.exitCode, 0, report.all);
      const model = JSON.parse(
        (await import('node:fs')).readFileSync(join(dir, 'reports', 'asha', 'report.json'), 'utf8'),
      );
      assert.equal(model.compute.pruned_runs, 2);
      const html = (await import('node:fs')).readFileSync(join(dir, 'reports', 'asha', 'index.html'), 'utf8');
      assert.ok(
        html.includes('poor (pruned)') && html.includes('worse (pruned)'),
        'pruned runs are labelled in the charts',
      );
      assert.match(html, /Early termination pruned <b>2<\/b> run\(s\)/);
      assert.ok(model.compute.full_estimate_seconds > model.compute.child_seconds);
    },
  );
});
