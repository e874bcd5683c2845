// A sweep process paused (SIGSTOP) past its heartbeat, another one takes its runs over, then the
// first is resumed (SIGCONT): it starts nothing more, does not report the runs it lost as failed,
// and the two together never run more children than cpu_slots (issue 13, also seen).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openReader } from '../../src/store/index.js';
import { cli, openStore, sleep, tempDir, waitFor, writeSweep } from '../helpers.js';

interface Interval {
  start: number;
  end: number;
}

/** When each attempt's child ran: from its probe to its end (or to the SIGTERM that stopped it). */
function childIntervals(runDirs: string[]): Interval[] {
  const intervals: Interval[] = [];
  for (const runDir of runDirs) {
    const stops = existsSync(join(runDir, 'sigterm.log'))
      ? readFileSync(join(runDir, 'sigterm.log'), 'utf8').trim().split('\n').map(Number)
      : [];
    for (const file of readdirSync(runDir).filter((f) => /^probe-\d+\.json$/.test(f))) {
      const probe = JSON.parse(readFileSync(join(runDir, file), 'utf8')) as { started: number; ended: number | null };
      const end = probe.ended ?? stops.find((t) => t >= probe.started);
      assert.ok(end !== undefined, `${runDir}/${file}: the child neither ended nor was stopped`);
      intervals.push({ start: probe.started, end });
    }
  }
  return intervals;
}

function maxOverlap(intervals: Interval[]): number {
  const edges = intervals
    .flatMap(
      (i) =>
        [
          [i.start, 1],
          [i.end, -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, delta] of edges) max = Math.max(max, (now += delta));
  return max;
}

/** Six short runs on two CPU slots: more than one round, so that there is always more to start. */
function sixRuns(name: string): string {
  return `name: ${name}
trainer: { command: [node, $TRAINER] }
base: { steps: 30, step_ms: 50 }
grid: { lr: [1, 2, 3, 4, 5, 6] }
resources: { gpus: none, cpu_slots: 2 }
kill_grace: 2s
`;
}

describe('a paused sweep process resumed beside the one that took over', () => {
  it(
    'starts nothing, reports no lost run as failed, and cpu_slots holds across both',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      writeSweep(dir, sixRuns('paused'));
      const db = join(dir, 'runs', 'sweeps.db');
      const first = cli(['run', 'sweep.yaml', '--stale-ms', '3000'], { cwd: dir });
      await waitFor(() => {
        if (!existsSync(db)) return false;
        const store = openReader(db);
        try {
          const runs = store.listRuns(store.getSweep('paused').pk);
          return runs.filter((r) => r.status === 'running' && existsSync(join(r.runDir, 'probe-1.json'))).length === 2;
        } finally {
          store.close();
        }
      }, 'two running children');
      first.kill('SIGSTOP');
      await sleep(4500);
      const second = cli(['run', 'sweep.yaml', '--stale-ms', '3000'], { cwd: dir });
      await waitFor(() => {
        const store = openReader(db);
        try {
          return store.listRuns(store.getSweep('paused').pk).some((r) => r.attempt > 1 && r.status === 'running');
        } finally {
          store.close();
        }
      }, 'the second process to take a run over');
      first.kill('SIGCONT');
      const [a, b] = await Promise.all([first, second]);
      assert.equal(b.exitCode, 0, b.all);
      assert.equal(a.exitCode, 3, a.all);
      assert.match(
        a.stderr,
        /this sweep process was paused for \d+s, longer than the 3s after which another sweep process may take its runs over/,
      );
      assert.doesNotMatch(a.all, /\bfailed\b/, 'the paused process reports no lost run as failed');

      const store = openStore(dir);
      const runs = store.listRuns(store.getSweep('paused').pk);
      for (const run of runs) assert.equal(run.status, 'completed', run.name);
      assert.ok(maxOverlap(childIntervals(runs.map((r) => r.runDir))) <= 2, 'never more children than cpu_slots');
      store.close();
    },
  );

  it(
    'stops with the same error when its queue runs dry before its heartbeat timer notices the pause',
    { timeout: 120_000 },
    async () => {
      // The heartbeat timer never fires here (--heartbeat-ms), so from 3 s on this process is in
      // the state a pause leaves it in, and only the queue can notice: it starts nothing more and
      // runs dry. Which of the two notices first once a paused process resumes is a race; the
      // outcome must not depend on it (a full test run once saw exit 0 and no message in the test
      // above).
      const dir = tempDir();
      writeSweep(dir, sixRuns('silent'));
      const r = await cli(['run', 'sweep.yaml', '--stale-ms', '3000', '--heartbeat-ms', '600000'], { cwd: dir });
      assert.equal(r.exitCode, 3, r.all);
      assert.match(r.stderr, /this sweep process was paused for \d+s, longer than the 3s/);
      assert.doesNotMatch(r.all, /\bfailed\b/, 'no run it left is reported as failed');
      const store = openStore(dir);
      const runs = store.listRuns(store.getSweep('silent').pk);
      assert.ok(
        runs.some((run) => run.status === 'queued'),
        runs.map((run) => `${run.name} ${run.status}`).join(', '),
      );
      assert.ok(
        runs.every((run) => run.status === 'queued' || run.status === 'completed'),
        runs.map((run) => `${run.name} ${run.status}`).join(', '),
      );
      store.close();
    },
  );
});
