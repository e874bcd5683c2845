// Ctrl-C and kill -9 of the orchestrator: no orphans, consistent state, nothing lost.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openReader } from '../../src/store/index.js';
import { parseMetricsLine } from '../../src/protocol/lines.js';
import { cli, openStore, pidAlive, sleep, tempDir, waitFor, writeSweep } from '../helpers.js';

function probes(dir: string, sweep: string, attempt = 1): { pid: number; grandchild?: number }[] {
  const db = join(dir, 'runs', 'sweeps.db');
  if (!existsSync(db)) return [];
  const store = openReader(db);
  try {
    const found = store.findSweep(sweep);
    if (!found) return [];
    return store
      .listRuns(found.pk)
      .map((r) => join(r.runDir, `probe-${attempt}.json`))
      .filter((f) => existsSync(f))
      .flatMap((f) => {
        try {
          return [JSON.parse(readFileSync(f, 'utf8'))];
        } catch {
          return []; // being written
        }
      });
  } finally {
    store.close();
  }
}

describe('interrupting a sweep', () => {
  it(
    'SIGINT stops the children (SIGKILL for one that ignores SIGTERM), marks them interrupted, exits 130',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      writeSweep(
        dir,
        `name: sigint
trainer: { command: [node, $TRAINER] }
base: { steps: 2, spawn_child: true }
configs:
  - { name: hang-a, mode: hang }
  - { name: stubborn, mode: ignore-sigterm }
  - { name: hang-b, mode: hang, lr: 2 }
  - { name: waiting }
resources: { gpus: none, cpu_slots: 3 }
kill_grace: 1s
`,
      );
      const child = cli(['run', 'sweep.yaml'], { cwd: dir });
      const seen = await waitFor(() => {
        const p = probes(dir, 'sigint');
        return p.length === 3 && p.every((x) => x.grandchild) ? p : undefined;
      }, 'three running children');
      await sleep(300);
      child.kill('SIGINT');
      const result = await child;
      assert.equal(result.exitCode, 130, result.all);
      for (const probe of seen) {
        assert.equal(pidAlive(probe.pid), false, `child ${probe.pid} outlived the sweep`);
        assert.equal(pidAlive(probe.grandchild!), false, `grandchild ${probe.grandchild} outlived the sweep`);
      }
      const store = openStore(dir);
      const byName = new Map(store.listRuns(store.getSweep('sigint').pk).map((r) => [r.name, r]));
      for (const name of ['hang-a', 'stubborn', 'hang-b']) assert.equal(byName.get(name)!.status, 'interrupted', name);
      assert.match(byName.get('stubborn')!.reason ?? '', /SIGKILL after the grace period/);
      assert.ok(existsSync(join(byName.get('stubborn')!.runDir, 'sigterm.log')), 'it was asked nicely first');
      assert.equal(byName.get('waiting')!.status, 'queued', 'a run that never started stays queued');
      store.close();
    },
  );

  it(
    'after kill -9 of the orchestrator, the next sweep run finishes with every metric line exactly once',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      writeSweep(
        dir,
        `name: crashy
trainer: { command: [node, $TRAINER] }
base: { steps: 40, step_ms: 40 }
grid: { lr: [1, 2, 3, 4, 5, 6] }
configs:
  - { name: resumable, checkpoint: true, steps: 60 }
resources: { gpus: none, cpu_slots: 2 }
`,
      );
      const first = cli(['run', 'sweep.yaml'], { cwd: dir });
      await waitFor(() => {
        const db = join(dir, 'runs', 'sweeps.db');
        if (!existsSync(db)) return false;
        const store = openReader(db);
        try {
          const sweep = store.findSweep('crashy');
          const runs = sweep ? store.listRuns(sweep.pk) : [];
          return (
            runs.filter((r) => r.status === 'completed').length >= 2 &&
            runs.some((r) => r.status === 'running' && (r.lastStep ?? 0) > 5)
          );
        } finally {
          store.close();
        }
      }, 'two completed runs and one well under way');
      first.kill('SIGKILL');
      await first;

      const second = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(second.exitCode, 0, second.all);
      assert.match(second.all, /recovered .*the sweep process running it .* died/);
      const store = openStore(dir);
      const runs = store.listRuns(store.getSweep('crashy').pk);
      assert.equal(runs.length, 7);
      for (const run of runs) {
        assert.equal(run.status, 'completed', run.name);
        // The file is the truth: every (key, step) it holds is in the database once, with its last value.
        const expected = new Map<string, number>();
        for (const line of readFileSync(join(run.runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
          const parsed = parseMetricsLine(line);
          if (parsed.type === 'metrics')
            for (const [key, value] of parsed.values) expected.set(`${key}@${parsed.step}`, value);
        }
        assert.equal(store.countMetrics(run.pk), expected.size, run.name);
        for (const key of store.metricKeys(run.pk)) {
          for (const point of store.series(run.pk, key))
            assert.equal(point.value, expected.get(`${key}@${point.step}`));
        }
        assert.equal(run.badLines, 0);
      }
      const resumable = runs.find((r) => r.name === 'resumable')!;
      if (resumable.attempt > 1) {
        const started = store.events(resumable.pk).filter((e) => e.kind === 'started');
        assert.ok(
          started.some((e) => (e.payload.resumed_from_step as number) > 0),
          'the resumed attempt continued from its checkpoint',
        );
      }
      store.close();
    },
  );

  it('two sweep processes on one database never run the same run twice', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    writeSweep(
      dir,
      `name: shared
trainer: { command: [node, $TRAINER] }
base: { steps: 5, step_ms: 60 }
grid: { lr: [1, 2, 3, 4, 5, 6, 7, 8] }
resources: { gpus: none, cpu_slots: 2 }
`,
    );
    const [a, b] = await Promise.all([
      cli(['run', 'sweep.yaml'], { cwd: dir }),
      cli(['run', 'sweep.yaml'], { cwd: dir }),
    ]);
    assert.equal(a.exitCode, 0, a.all);
    assert.equal(b.exitCode, 0, b.all);
    const store = openStore(dir);
    for (const run of store.listRuns(store.getSweep('shared').pk)) {
      assert.equal(run.status, 'completed');
      assert.equal(run.attempt, 1, `${run.name} ran ${run.attempt} times`);
      assert.equal(existsSync(join(run.runDir, 'probe-2.json')), false);
    }
    store.close();
  });
});
