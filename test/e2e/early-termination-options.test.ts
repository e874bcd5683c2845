// ASHA's few_runs and rung_value through the real CLI: the test trainer's validation curve is a
// known function of its `quality`, and one slot makes runs reach each rung in plan order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, openStore, tempDir, writeSweep } from '../helpers.js';

describe('early termination options', () => {
  it('few_runs best stops the second run at a rung when it is worse than the first', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      `name: asha-few
trainer: { command: [node, $TRAINER] }
base: { steps: 100, step_ms: 40 }
configs:
  - { name: first, quality: 1 }
  - { name: second-worse, quality: 1.2 }
  - { name: third-better, quality: 0.8 }
early_termination: { type: asha, metric: val/loss, mode: min, grace: 5, reduction: 3, few_runs: best, rung_value: best }
resources: { gpus: none, cpu_slots: 1 }
kill_grace: 2s
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.all);
    const store = openStore(dir);
    const byName = new Map(store.listRuns(store.getSweep('asha-few').pk).map((r) => [r.name, r]));
    store.close();
    // With the default (few_runs: continue) second-worse would go on: only two runs at rung 0.
    for (const name of ['first', 'third-better'])
      assert.equal(byName.get(name)!.status, 'completed', `${name}: ${byName.get(name)!.reason}`);
    const second = byName.get('second-worse')!;
    assert.equal(second.status, 'pruned');
    assert.equal(second.pruneRung, 0);
    // Its best so far at step 5 is 1.2 + 2/6; the first run's was 1 + 2/6.
    assert.match(
      second.reason ?? '',
      /^pruned: asha rung 0 \(5 steps after warmup\): best val\/loss so far 1\.533 is not the best of the 2 runs there so far \(fewer than 3; cutoff 1\.333\)/,
    );
    assert.ok((second.lastStep ?? 999) < 99, `stopped before its end (step ${second.lastStep})`);
  });
});
