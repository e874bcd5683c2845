// kill -9 of `sweep run` while a run's trainer was started by a wrapper that has since exited: the
// resume stops what is left of attempt 1's process group before attempt 2 starts, and every line
// of the metrics file reaches the store (issue 13, fault 1).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseMetricsLine } from '../../src/protocol/lines.js';
import { openReader } from '../../src/store/index.js';
import { ROOT, cli, openStore, pidAlive, tempDir, waitFor, writeSweep } from '../helpers.js';

const WRAPPER = join(ROOT, 'test/fixtures/background-wrapper.sh');

describe('resuming after kill -9 with a wrapped trainer', () => {
  it(
    'stops attempt 1 (its wrapper gone, its trainer alive) before attempt 2 starts',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      // 150 steps of 80 ms: attempt 1's trainer must still be writing when the resume starts,
      // even when a loaded machine is slow to start the second `sweep run`.
      writeSweep(
        dir,
        `name: wrapped
trainer: { command: [/bin/sh, ${JSON.stringify(WRAPPER)}], env: { WRAPPER_SLEEP: "1" } }
base: { step_ms: 80 }
configs: [{ name: wrapped, steps: 150 }]
resources: { gpus: none, cpu_slots: 1 }
kill_grace: 2s
`,
      );
      const first = cli(['run', 'sweep.yaml'], { cwd: dir });
      const db = join(dir, 'runs', 'sweeps.db');
      const running = await waitFor(() => {
        if (!existsSync(db)) return false;
        const store = openReader(db);
        try {
          const run = store.listRuns(store.getSweep('wrapped').pk)[0];
          return run && run.pid !== null && existsSync(join(run.runDir, 'probe-1.json')) ? run : false;
        } finally {
          store.close();
        }
      }, 'the trainer to start');
      first.kill('SIGKILL');
      await first;
      await waitFor(() => !pidAlive(running.pid!), 'the wrapper to exit', 10_000);
      const trainer = JSON.parse(readFileSync(join(running.runDir, 'probe-1.json'), 'utf8')) as { pid: number };
      assert.equal(pidAlive(trainer.pid), true, 'attempt 1 trainer writes on without its wrapper');

      const second = await cli(['run', 'sweep.yaml'], { cwd: dir });
      assert.equal(second.exitCode, 0, second.all);
      assert.match(second.all, /its child was stopped/);
      assert.equal(pidAlive(trainer.pid), false, 'attempt 1 trainer was stopped');
      const stoppedAt = Number(readFileSync(join(running.runDir, 'sigterm.log'), 'utf8').trim().split('\n')[0]);
      const attempt2 = JSON.parse(readFileSync(join(running.runDir, 'probe-2.json'), 'utf8')) as { started: number };
      assert.ok(stoppedAt <= attempt2.started, 'attempt 1 was stopped before attempt 2 started');

      const store = openStore(dir);
      const run = store.listRuns(store.getSweep('wrapped').pk)[0]!;
      assert.equal(run.status, 'completed');
      const expected = new Set<string>();
      for (const line of readFileSync(join(run.runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
        const parsed = parseMetricsLine(line);
        if (parsed.type === 'metrics') for (const [key] of parsed.values) expected.add(`${key}@${parsed.step}`);
      }
      assert.equal(store.countMetrics(run.pk), expected.size, 'every key-step of the file is in the store');
      store.close();
    },
  );
});
