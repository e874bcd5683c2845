// GPU scheduling with a fake nvidia-smi on PATH: each child's CUDA_VISIBLE_DEVICES is checked.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, openStore, tempDir, writeSweep } from '../helpers.js';

function fakeNvidiaSmi(dir: string, gpus: { name: string; memoryMiB: number }[]): Record<string, string> {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const lines = gpus.map((g, i) => `${i}, ${g.name}, ${g.memoryMiB}`).join('\\n');
  writeFileSync(join(bin, 'nvidia-smi'), `#!/bin/sh\nprintf '${lines}\\n'\n`);
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  return { PATH: `${bin}:${process.env.PATH}` };
}

interface Probe {
  gpu: string;
  started: number;
  ended: number;
}

/** The most runs that were ever alive at once on each GPU, from the children's own clocks. */
function maxConcurrency(probes: Probe[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const gpu of new Set(probes.map((p) => p.gpu))) {
    const edges = probes
      .filter((p) => p.gpu === gpu)
      .flatMap((p) => [[p.started, 1] as const, [p.ended, -1] as const])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let max = 0;
    for (const [, delta] of edges) max = Math.max(max, (now += delta));
    out.set(gpu, max);
  }
  return out;
}

describe('GPU slots', () => {
  it('packs runs_per_gpu runs per GPU, uses every slot, and hides the other GPUs', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const env = fakeNvidiaSmi(
      dir,
      Array.from({ length: 4 }, () => ({ name: 'Fake H100', memoryMiB: 81559 })),
    );
    writeSweep(
      dir,
      `name: packing
trainer: { command: [node, $TRAINER] }
base: { steps: 4, step_ms: 250 }
grid: { lr: [1, 2, 3, 4, 5, 6, 7, 8], batch_size: [16, 32] }
resources: { gpus: auto, runs_per_gpu: 2 }
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.all);
    assert.match(result.all, /on 8 slot\(s\): gpu0\.0 gpu1\.0 gpu2\.0 gpu3\.0 gpu0\.1/);
    const store = openStore(dir);
    const runs = store.listRuns(store.getSweep('packing').pk);
    assert.equal(runs.length, 16);
    const probes: Probe[] = [];
    for (const run of runs) {
      assert.equal(run.status, 'completed');
      const probe = JSON.parse(readFileSync(join(run.runDir, 'probe-1.json'), 'utf8')) as Probe;
      assert.equal(probe.gpu, String(run.gpu), "the child sees exactly its slot's GPU");
      assert.equal(run.slot?.startsWith(`gpu${run.gpu}.`), true);
      probes.push(probe);
    }
    assert.deepEqual(new Set(runs.map((r) => r.slot)).size, 8, 'every slot was used');
    const concurrency = maxConcurrency(probes);
    assert.deepEqual([...concurrency.keys()].sort(), ['0', '1', '2', '3']);
    for (const [gpu, max] of concurrency) assert.ok(max <= 2, `GPU ${gpu} had ${max} runs at once`);
    store.close();
  });

  it(
    'moves a run that ran out of memory to a GPU with more memory, and gives up when none is left',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const env = fakeNvidiaSmi(dir, [
        { name: 'Small', memoryMiB: 8000 },
        { name: 'Big', memoryMiB: 40000 },
      ]);
      writeSweep(
        dir,
        `name: oom
trainer: { command: [node, $TRAINER] }
base: { steps: 3 }
configs:
  - { name: needs-big, mode: oom-if-gpu, big_gpu: 1 }
  - { name: never-fits, mode: oom }
resources: { gpus: auto, runs_per_gpu: 1 }
retries: 0
`,
      );
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir, env });
      assert.equal(result.exitCode, 1, result.all);
      const store = openStore(dir);
      const byName = new Map(store.listRuns(store.getSweep('oom').pk).map((r) => [r.name, r]));
      const big = byName.get('needs-big')!;
      assert.equal(big.status, 'completed');
      assert.equal(big.gpu, 1);
      assert.equal(big.attempt, 2);
      assert.deepEqual(big.excludedGpus, [0]);
      const never = byName.get('never-fits')!;
      assert.equal(never.status, 'infeasible');
      assert.ok(never.attempt <= 2, 'tried at most once per GPU size');
      assert.match(never.reason ?? '', /out of memory/);
      store.close();
    },
  );
});
