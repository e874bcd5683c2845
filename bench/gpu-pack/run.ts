// npm run bench:gpu-pack: 48 runs of three memory sizes and known durations on 8 GPUs of 80 GB,
// one of them half taken by another user's process. pack: memory (the real allocator, packer and
// predictor in simulated time) against every fixed runs_per_gpu and an offline schedule.
import { lowerBound, offlineSchedule } from './offline.js';
import { simulate, type SimGpu, type SimResult, type SimRun } from './simulate.js';

const GiB = 1024;
const gpus: SimGpu[] = Array.from({ length: 8 }, (_, i) => ({
  totalMiB: 80 * GiB,
  foreignMiB: i === 7 ? 40 * GiB : 0,
}));
// Memory grows with the batch but not in a straight line (the fit from two sizes underestimates
// the third), as activations and the optimizer state do.
const sizes = [
  { batch: 64, memMiB: 10 * GiB, duration: 30 * 60 },
  { batch: 128, memMiB: 20 * GiB, duration: 60 * 60 },
  { batch: 256, memMiB: 44 * GiB, duration: 90 * 60 },
];
const runs: SimRun[] = [];
for (let i = 0; i < 16; i++) {
  for (const size of sizes) {
    runs.push({
      name: `b${size.batch}-lr${i}`,
      params: { model: 'ViT-B-32', batch_size: size.batch, lr: 1e-6 * (i + 1) },
      memMiB: size.memMiB,
      duration: size.duration,
    });
  }
}

const hours = (seconds: number): string => (seconds / 3600).toFixed(2);
const rows: string[][] = [];
const row = (
  name: string,
  r: { makespan: number; gpuSeconds: number },
  extra: Partial<SimResult> = {},
  vs?: number,
): void => {
  rows.push([
    name,
    hours(r.makespan),
    hours(r.gpuSeconds),
    // A schedule that lost runs finished early by not running them: no comparison.
    vs === undefined ? '' : (extra.failed ?? 0) > 0 ? 'lost runs' : `${((r.makespan / vs - 1) * 100).toFixed(1)}%`,
    extra.ooms === undefined ? '' : String(extra.ooms),
    extra.oomsAfterMeasured === undefined ? '' : String(extra.oomsAfterMeasured),
    extra.failed === undefined ? '' : String(extra.failed),
  ]);
};

const offline = offlineSchedule(gpus, runs);
const bound = lowerBound(gpus, runs);
const memory = await simulate({ gpus, runs, pack: { memory: true, marginMiB: 1024 }, pollSeconds: 60, oomAfter: 120 });
row('pack: memory', memory, memory, offline.makespan);
let best: { k: number; result: SimResult } | null = null;
for (let k = 1; k <= 6; k++) {
  const fixed = await simulate({ gpus, runs, pack: { memory: false, runsPerGpu: k }, pollSeconds: 60, oomAfter: 120 });
  row(`runs_per_gpu: ${k}`, fixed, fixed, offline.makespan);
  if (fixed.failed === 0 && (best === null || fixed.makespan < best.result.makespan)) best = { k, result: fixed };
}
// What an operator would do by hand: leave the shared GPU out.
for (let k = 1; k <= 3; k++) {
  const fixed = await simulate({
    gpus: gpus.slice(0, 7),
    runs,
    pack: { memory: false, runsPerGpu: k },
    pollSeconds: 60,
    oomAfter: 120,
  });
  row(`runs_per_gpu: ${k}, GPU 7 left out`, fixed, fixed, offline.makespan);
  if (fixed.failed === 0 && (best === null || fixed.makespan < best.result.makespan)) best = { k, result: fixed };
}
row('offline list schedule (LPT, best fit)', offline, {}, offline.makespan);
rows.push(['lower bound', hours(bound), '', `${((bound / offline.makespan - 1) * 100).toFixed(1)}%`, '', '', '']);

const header = ['schedule', 'makespan h', 'GPU-hours', 'vs offline', 'OOMs', 'OOMs after measured', 'runs failed'];
console.log(
  'makespan: first start to last end; GPU-hours: per GPU, from the start until its last run of the sweep ended',
);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(
  `48 runs (16 each of ${sizes.map((s) => `${s.memMiB / GiB} GiB for ${s.duration / 60} min`).join(', ')}) on 8 x 80 GiB, GPU 7 half taken by another process`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
console.log(
  `best fixed runs_per_gpu with every run completed: ${best === null ? 'none' : `${best.k} (${hours(best.result.makespan)} h)`}`,
);
console.log(
  `pack: memory makespan is ${((memory.makespan / offline.makespan - 1) * 100).toFixed(1)}% over the offline schedule (target: within 10%), ${memory.oomsAfterMeasured} out-of-memory after a size was measured (target: 0)`,
);
