// Simulated time over the real placement code: the slot allocator, the memory packer, the
// predictor, the GPU poller (fed simulated nvidia-smi readings), the learning that follows each
// run (src/orchestrator/gpu-use.ts, with a real SQLite store) and the attempt policy. Only the
// GPUs and the children are simulated: a run holds its memory from its start for its duration,
// runs on one GPU do not slow each other, and a run started where its memory does not fit runs
// out of memory `oomAfter` seconds in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { startGpuUse } from '../../src/orchestrator/gpu-use.js';
import { SlotAllocator, firstFreeSlot } from '../../src/orchestrator/slot-allocator.js';
import { decideAttempt } from '../../src/plan/attempt.js';
import type { GpuReading } from '../../src/resources/gpu-monitor.js';
import { buildSlots, type Slot } from '../../src/resources/gpus.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { resourcesSchema } from '../../src/sweep-file/schema.js';

export interface SimRun {
  name: string;
  params: Record<string, unknown>;
  memMiB: number;
  /** Seconds. */
  duration: number;
}

export interface SimGpu {
  totalMiB: number;
  foreignMiB: number;
}

export interface SimResult {
  makespan: number;
  /** GPU-seconds held: each GPU from the sweep's start until its last run of the sweep ends. */
  gpuSeconds: number;
  ooms: number;
  /** Out-of-memory attempts of a run whose size had been measured before it was placed. */
  oomsAfterMeasured: number;
  failed: number;
}

export interface SimOptions {
  gpus: readonly SimGpu[];
  runs: readonly SimRun[];
  /** pack: memory, or a fixed number of runs per GPU. */
  pack: { memory: true; marginMiB: number } | { memory: false; runsPerGpu: number };
  pollSeconds: number;
  oomAfter: number;
}

export async function simulate(options: SimOptions): Promise<SimResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-pack-'));
  const store = SqliteStore.open(join(dir, 'sim.db'));
  try {
    return await run(options, store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(options: SimOptions, store: SqliteStore): Promise<SimResult> {
  const trainer = { command: ['train.py'] };
  const sweep = store.registerSweep({
    name: 'sim',
    specPath: null,
    spec: { trainer },
    specHash: 'sim',
    runsDir: '/nonexistent',
  });
  store.registerRuns(
    sweep.pk,
    options.runs.map((r, ordinal) => ({
      id: `r${ordinal}`,
      name: r.name,
      params: r.params,
      ordinal,
      runDir: `/nonexistent/r${ordinal}`,
    })),
  );
  const records = store.listRuns(sweep.pk).sort((a, b) => a.ordinal - b.ordinal);
  const byPk = new Map(records.map((rec, i) => [rec.pk, options.runs[i]!]));

  let now = 0;
  const onGpu = new Map<number, Map<number, number>>(); // gpu -> runPk -> MiB
  const pidOf = (runPk: number): number => 100_000 + runPk;
  const read = async (): Promise<GpuReading> => ({
    gpus: options.gpus.map((g, index) => {
      const ours = [...(onGpu.get(index)?.values() ?? [])].reduce((a, b) => a + b, 0);
      return {
        index,
        uuid: `sim-${index}`,
        name: 'sim',
        totalMiB: g.totalMiB,
        usedMiB: g.foreignMiB + ours,
        util: ours > 0 ? 90 : 0,
      };
    }),
    processes: [...onGpu].flatMap(([gpu, runs]) =>
      [...runs].map(([runPk, mib]) => ({ pid: pidOf(runPk), gpuUuid: `sim-${gpu}`, usedMiB: mib })),
    ),
  });
  const resources = resourcesSchema.parse(
    options.pack.memory
      ? {
          gpus: 'auto',
          pack: 'memory',
          memory_margin_mib: options.pack.marginMiB,
          gpu_poll_ms: 1e9,
          gpu_record_ms: 1e9,
        }
      : { gpus: 'auto', runs_per_gpu: options.pack.runsPerGpu, gpu_poll_ms: 1e9, gpu_record_ms: 1e9 },
  );
  const slots = buildSlots(
    resources,
    options.gpus.map((g, index) => ({ index, name: 'sim', memoryMiB: g.totalMiB })),
    'sim.yaml',
  );
  const gpuUse = (await startGpuUse({
    store,
    sweepPk: sweep.pk,
    resources,
    trainer,
    slots,
    monitor: { read, ownerOf: (pid, leaders) => leaders.get(pid) ?? null },
    now: () => now * 1000,
  }))!;
  const allocator = new SlotAllocator(slots, gpuUse.placement ?? firstFreeSlot);
  gpuUse.onChange(() => allocator.wake());

  // Events in simulated time: run ends and poll ticks.
  const events: { at: number; fire: () => void }[] = [];
  const at = (time: number, fire: () => void): void => {
    events.push({ at: time, fire });
    events.sort((a, b) => a.at - b.at);
  };
  const measured = new Set<number>(); // memory sizes measured by a completed run
  const attempts = new Map<number, number>();
  const result: SimResult = { makespan: 0, gpuSeconds: 0, ooms: 0, oomsAfterMeasured: 0, failed: 0 };
  const lastEnd = new Map<number, number>();
  let outstanding = records.length;

  const start = (runPk: number, slot: Slot): void => {
    const spec = byPk.get(runPk)!;
    const gpu = slot.gpu!;
    const held = [...(onGpu.get(gpu)?.values() ?? [])].reduce((a, b) => a + b, 0) + options.gpus[gpu]!.foreignMiB;
    const fits = held + spec.memMiB <= options.gpus[gpu]!.totalMiB;
    const knownBefore = measured.has(spec.memMiB);
    attempts.set(runPk, (attempts.get(runPk) ?? 0) + 1);
    const runs = onGpu.get(gpu) ?? new Map<number, number>();
    runs.set(runPk, spec.memMiB);
    onGpu.set(gpu, runs);
    gpuUse.observer.started(runPk, slot, pidOf(runPk));
    const seconds = fits ? spec.duration : options.oomAfter;
    at(now + seconds, () => {
      runs.delete(runPk);
      lastEnd.set(gpu, now);
      const outcome = fits
        ? ({ status: 'completed', durationMs: seconds * 1000 } as const)
        : ({
            status: 'failed',
            kind: 'oom',
            exitCode: 1,
            signal: null,
            reason: 'CUDA out of memory',
            stderrTail: '',
            durationMs: seconds * 1000,
          } as const);
      gpuUse.observer.ended(runPk, slot, outcome);
      allocator.release(slot);
      if (fits) {
        measured.add(spec.memMiB);
        outstanding--;
        return;
      }
      result.ooms++;
      if (knownBefore) result.oomsAfterMeasured++;
      const record = store.getRun(runPk);
      const decision = decideAttempt({
        outcome,
        prune: null,
        aborted: false,
        slot,
        attemptNo: attempts.get(runPk)!,
        attemptsHere: attempts.get(runPk)!,
        retries: 0,
        excludedGpus: record.excludedGpus,
        slots,
        sharedGpu: gpuUse.placement.wasShared?.(runPk) ?? false,
      });
      if (decision.excludeGpu !== null) store.excludeGpu(runPk, decision.excludeGpu);
      if (decision.retry === null) {
        result.failed++;
        outstanding--;
        return;
      }
      void place(runPk);
    });
  };
  const place = async (runPk: number): Promise<void> => {
    const record = store.getRun(runPk);
    const slot = await allocator.acquire({ runPk, params: record.params, excludedGpus: record.excludedGpus });
    if (slot !== null) start(runPk, slot);
  };
  const tick = (): void => {
    void gpuUse.monitor.poll();
    if (outstanding > 0) at(now + options.pollSeconds, tick);
  };

  for (const record of records) void place(record.pk);
  await turn();
  at(options.pollSeconds, tick);
  while (events.length > 0 && outstanding > 0) {
    const event = events.shift()!;
    now = event.at;
    event.fire();
    // Let the poller's reading and the allocator's promises settle before time moves on.
    await turn();
    await turn();
  }
  if (outstanding > 0) throw new Error(`simulation stalled with ${outstanding} run(s) unplaced at t=${now}`);
  allocator.close();
  await gpuUse.close();
  result.makespan = now;
  result.gpuSeconds = [...lastEnd.values()].reduce((a, b) => a + b, 0);
  return result;
}
