// sweep run --dry-run --estimate-from: the cost of a sweep from a recorded one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, openStore, tempDir, writeSweep } from '../helpers.js';

describe('dry-run estimate', () => {
  it(
    'estimates each run from the recorded duration of the same run, and lays them over the slots',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const sweep = (name: string) => `name: ${name}
trainer: { command: [node, $TRAINER] }
base: { steps: 4 }
grid: { step_ms: [50, 200, 400] }
resources: { gpus: none, cpu_slots: 2 }
`;
      writeSweep(dir, sweep('recorded'));
      const ran = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(ran.exitCode, 0, ran.all);
      const store = openStore(dir);
      const recorded = store.listRuns(store.getSweep('recorded').pk).sort((a, b) => a.ordinal - b.ordinal);
      const seconds = recorded.map((r) => r.endedAt! - r.startedAt!);
      store.close();

      writeSweep(dir, sweep('next'), 'next.yaml');
      const text = await cli(['run', 'next.yaml', '--dry-run', '--estimate-from', 'recorded'], { cwd: dir });
      assert.equal(text.exitCode, 0, text.all);
      assert.match(
        text.stdout,
        /slots: cpu0 cpu1\nlayout: 2 CPU slot\(s\)\ncost \(from recorded: 3 by same-params\): wall-clock /,
      );
      const json = await cli(['run', 'next.yaml', '--dry-run', '--estimate-from', 'recorded', '--json'], { cwd: dir });
      const plan = JSON.parse(json.stdout) as {
        estimate: { ok: true; runs: { seconds: number }[]; wallClockSeconds: number; slotSeconds: number };
      };
      assert.equal(plan.estimate.ok, true);
      plan.estimate.runs.forEach((run, i) =>
        assert.ok(Math.abs(run.seconds - seconds[i]!) < 1e-6, `run ${i}: ${run.seconds} vs recorded ${seconds[i]}`),
      );
      assert.ok(Math.abs(plan.estimate.slotSeconds - seconds.reduce((a, b) => a + b, 0)) < 1e-6);
      // Two slots in plan order: runs 0 and 1 start at once, run 2 follows the one that ends first.
      const expected = Math.max(
        seconds[0]! + (seconds[0]! <= seconds[1]! ? seconds[2]! : 0),
        seconds[1]! + (seconds[0]! <= seconds[1]! ? 0 : seconds[2]!),
      );
      assert.ok(Math.abs(plan.estimate.wallClockSeconds - expected) < 1e-6);

      const unknown = await cli(['run', 'next.yaml', '--dry-run', '--estimate-from', 'nope'], { cwd: dir });
      assert.match(unknown.stdout, /cost: cannot estimate from nope: no sweep named nope/);
      writeSweep(dir, sweep('other').replace('[node, $TRAINER]', '[node, $TRAINER, --x]'), 'other.yaml');
      const other = await cli(['run', 'other.yaml', '--dry-run', '--estimate-from', 'recorded'], { cwd: dir });
      assert.match(other.stdout, /cannot estimate from recorded: recorded ran a different trainer/);
    },
  );
});
