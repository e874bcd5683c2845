// pack: memory with a fake nvidia-smi on PATH that answers from files the test children write
// (their pid, GPU and memory; test/fixtures/fake-nvidia-smi.mjs), with another user's process.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, openStore, ROOT, tempDir, writeSweep } from '../helpers.js';

interface FakeGpus {
  gpus: { name: string; memoryMiB: number }[];
  foreign?: { pid: number; gpu: number; mib: number }[];
  topo?: string;
}

function fakeNvidiaSmi(dir: string, setup: FakeGpus): Record<string, string> {
  const bin = join(dir, 'bin');
  const gpuDir = join(dir, 'gpus');
  mkdirSync(bin);
  mkdirSync(gpuDir);
  copyFileSync(join(ROOT, 'test/fixtures/fake-nvidia-smi.mjs'), join(bin, 'nvidia-smi'));
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  writeFileSync(join(gpuDir, 'gpus.json'), JSON.stringify(setup.gpus));
  writeFileSync(join(gpuDir, 'foreign.json'), JSON.stringify(setup.foreign ?? []));
  if (setup.topo !== undefined) writeFileSync(join(gpuDir, 'topo.txt'), setup.topo);
  return { PATH: `${bin}:${process.env.PATH}`, FAKE_GPU_DIR: gpuDir };
}

interface Probe {
  gpu: string;
  started: number;
  ended: number | null;
  gpuMib?: number;
  oom?: boolean;
  env: { MASTER_PORT?: string };
}

function probes(runDir: string, attempts: number): Probe[] {
  return Array.from(
    { length: attempts },
    (_, i) => JSON.parse(readFileSync(join(runDir, `probe-${i + 1}.json`), 'utf8')) as Probe,
  );
}

/** The most memory the sweep's runs ever held at once on each GPU, and the most runs at once. */
function peaks(all: Probe[]): Map<string, { mib: number; runs: number }> {
  const out = new Map<string, { mib: number; runs: number }>();
  for (const gpu of new Set(all.map((p) => p.gpu))) {
    const edges = all
      .filter((p) => p.gpu === gpu && p.ended !== null)
      .flatMap((p) => [[p.started, p.gpuMib ?? 0, 1] as const, [p.ended!, -(p.gpuMib ?? 0), -1] as const])
      .sort((a, b) => a[0] - b[0] || a[2] - b[2]);
    let mib = 0;
    let runs = 0;
    const most = { mib: 0, runs: 0 };
    for (const [, dm, dr] of edges) {
      mib += dm;
      runs += dr;
      most.mib = Math.max(most.mib, mib);
      most.runs = Math.max(most.runs, runs);
    }
    out.set(gpu, most);
  }
  return out;
}

describe('pack: memory', () => {
  it(
    "measures a first run alone, then packs by its peak, never overcommitting, around another user's memory",
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      const env = fakeNvidiaSmi(dir, {
        gpus: [
          { name: 'Fake A', memoryMiB: 10000 },
          { name: 'Fake B', memoryMiB: 10000 },
        ],
        foreign: [{ pid: 999999, gpu: 1, mib: 6000 }],
      });
      writeSweep(
        dir,
        `name: pack
trainer: { command: [node, $TRAINER] }
base: { steps: 8, step_ms: 300, gpu_mib: 2000, batch_size: 32 }
grid: { lr: [1] }
seeds: [1, 2, 3, 4, 5]
resources: { gpus: auto, pack: memory, memory_margin_mib: 500, gpu_poll_ms: 250, gpu_record_ms: 250 }
retries: 0
`,
      );
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir, env });
      assert.equal(result.exitCode, 0, result.all);
      const store = openStore(dir);
      const sweep = store.getSweep('pack');
      const runs = store.listRuns(sweep.pk).sort((a, b) => a.ordinal - b.ordinal);
      const use = store.runGpuUse(sweep.pk);
      const all: Probe[] = [];
      for (const run of runs) {
        assert.equal(run.status, 'completed', `${run.name}: ${run.reason}`);
        assert.equal(run.attempt, 1, `${run.name} never ran out of memory`);
        all.push(...probes(run.runDir, 1));
        assert.equal(use.get(run.pk)?.peakMiB, 2000, `${run.name}: the measured peak is stored`);
        // The fake says 90% while a process of the sweep is on the GPU, 0 before it has started one.
        const util = use.get(run.pk)?.utilMean ?? 0;
        assert.ok(util > 0 && util <= 90, `mean utilisation ${util}`);
      }
      // The first run had no prediction: it ran alone and every other run started after it ended.
      const first = all[0]!;
      for (const other of all.slice(1)) assert.ok(other.started >= first.ended!, 'the first run was measured alone');
      const most = peaks(all);
      assert.ok(most.get('0')!.mib <= 10000 - 500, `GPU 0 held ${most.get('0')!.mib} MiB`);
      assert.ok(most.get('0')!.runs >= 2, 'runs were packed onto GPU 0');
      // 6000 MiB of GPU 1 belong to someone else: one 2000 MiB run fits beside them, not two.
      assert.ok((most.get('1')?.runs ?? 0) <= 1, 'the foreign memory on GPU 1 was respected');
      const samples = store.gpuSamples(sweep.pk);
      assert.ok(
        samples.some((s) => s.gpu === 1 && s.usedMiB >= 6000),
        'GPU samples are stored, foreign memory included',
      );
      assert.ok(samples.some((s) => s.gpu === 0 && s.sweepMiB >= 4000));
      store.close();
      // sweep status: each GPU's occupancy now (the sweep is over: only the other user's memory).
      const status = await cli(['status', 'pack'], { cwd: dir, env });
      assert.equal(status.exitCode, 0, status.all);
      assert.match(
        status.stdout,
        /GPU 0 Fake A: 0 \/ 10,000 MiB used: none of this sweep, others 0 MiB; utilisation 0%/,
      );
      assert.match(
        status.stdout,
        /GPU 1 Fake B: 6,000 \/ 10,000 MiB used: none of this sweep, others 6,000 MiB; utilisation 90%/,
      );
    },
  );

  it('learns from an out-of-memory: a run like it goes straight to a GPU with room', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    // GPU 1 is bigger, but someone holds most of it: 8000 MiB free there, 7600 on GPU 0.
    const env = fakeNvidiaSmi(dir, {
      gpus: [
        { name: 'Small', memoryMiB: 7600 },
        { name: 'Big', memoryMiB: 16000 },
      ],
      foreign: [{ pid: 999998, gpu: 1, mib: 8000 }],
    });
    writeSweep(
      dir,
      `name: learn
trainer: { command: [node, $TRAINER] }
base: { steps: 10, step_ms: 300 }
configs:
  - { name: small, gpu_mib: 1000, batch_size: 16 }
  - { name: big-1, gpu_mib: 7700, batch_size: 64, seed: 1 }
  - { name: big-2, gpu_mib: 7700, batch_size: 64, seed: 2 }
resources: { gpus: auto, pack: memory, memory_margin_mib: 0, gpu_poll_ms: 250 }
retries: 0
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.all);
    const store = openStore(dir);
    const sweep = store.getSweep('learn');
    const byName = new Map(store.listRuns(sweep.pk).map((r) => [r.name, r]));
    const use = store.runGpuUse(sweep.pk);
    // big-1 had no prediction and GPU 1 was taken by `small` being measured: it tried GPU 0.
    const big1 = byName.get('big-1')!;
    assert.equal(big1.status, 'completed');
    assert.equal(big1.attempt, 2);
    assert.deepEqual(big1.excludedGpus, [0]);
    assert.equal(probes(big1.runDir, 2)[0]!.oom, true);
    assert.equal(use.get(big1.pk)?.needMinMiB, 7600, 'the out-of-memory proved it needs more than GPU 0 had');
    // big-2 is big-1 apart from the seed: it never tried GPU 0.
    const big2 = byName.get('big-2')!;
    assert.equal(big2.status, 'completed');
    // Once in ten runs on a loaded machine big-2 still took two attempts; the sweep's log says how.
    assert.equal(big2.attempt, 1, result.all);
    assert.equal(big2.gpu, 1, result.all);
    assert.equal(use.get(big2.pk)?.peakMiB, 7700);
    store.close();
  });

  it(
    'gpus_per_run: 2 gives each run two GPUs close together and a MASTER_PORT of its own',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const topo = `\t\x1b[4mGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\x1b[0m
GPU0\t X \tSYS\tNV12\tSYS\t0-15
GPU1\tSYS\t X \tSYS\tNV12\t0-15
GPU2\tNV12\tSYS\t X \tSYS\t0-15
GPU3\tSYS\tNV12\tSYS\t X \t0-15

Legend:
  X    = Self
`;
      const env = fakeNvidiaSmi(dir, {
        gpus: Array.from({ length: 4 }, () => ({ name: 'Fake', memoryMiB: 80000 })),
        topo,
      });
      writeSweep(
        dir,
        `name: multi
trainer: { command: [node, $TRAINER] }
base: { steps: 8, step_ms: 250 }
grid: { lr: [1, 2] }
resources: { gpus: auto, gpus_per_run: 2 }
`,
      );
      const result = await cli(['run', 'sweep.yaml'], { cwd: dir, env });
      assert.equal(result.exitCode, 0, result.all);
      const store = openStore(dir);
      const runs = store.listRuns(store.getSweep('multi').pk);
      const seen = runs.map((run) => probes(run.runDir, 1)[0]!);
      assert.deepEqual(seen.map((p) => p.gpu).sort(), ['0,2', '1,3'], 'pairs joined by NVLink');
      const ports = seen.map((p) => p.env.MASTER_PORT);
      assert.ok(ports.every((p) => p !== undefined && Number(p) > 0));
      assert.notEqual(ports[0], ports[1]);
      // They ran at the same time, so the ports were distinct while both were held.
      assert.ok(seen[0]!.started < seen[1]!.ended! && seen[1]!.started < seen[0]!.ended!);
      store.close();
    },
  );
});
