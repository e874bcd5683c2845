// Prints what each run of bench/gpu/check.yaml saw: its slot and GPU, the CUDA_VISIBLE_DEVICES it
// was given, the device the trainer reported, its run time and final recall; and how many runs
// overlapped on each GPU. Usage: node dist/bench/gpu/summary.js runs/sweeps.db
import { openReader } from '../../src/store/index.js';

const store = openReader(process.argv[2] ?? 'runs/sweeps.db');
const sweep = store.getSweep('gpu-check');
const spans: { gpu: number | null; start: number; end: number }[] = [];
for (const run of store.listRuns(sweep.pk)) {
  const started = store.events(run.pk).find((e) => e.kind === 'started');
  const info = (started?.payload.info ?? {}) as Record<string, unknown>;
  const t = store.transitions(run.pk);
  const start = t.find((x) => x.to === 'running')?.at ?? NaN;
  const end = t.at(-1)?.at ?? NaN;
  spans.push({ gpu: run.gpu, start, end });
  const r1 = store.series(run.pk, 'val/i2t_R@1').at(-1)?.value;
  console.log(
    JSON.stringify({
      run: run.id,
      lr: run.params.lr,
      status: run.status,
      slot: run.slot,
      gpu: run.gpu,
      cuda_visible_devices: info.cuda_visible_devices ?? null,
      device: info.device ?? null,
      seconds: Number((end - start).toFixed(2)),
      'val/i2t_R@1': r1,
    }),
  );
}
// Most runs running at once on one GPU: sweep the start and end instants per GPU.
let overlap = 0;
for (const gpu of new Set(spans.map((s) => s.gpu))) {
  const edges = spans
    .filter((s) => s.gpu === gpu)
    .flatMap(
      (s) =>
        [
          [s.start, 1],
          [s.end, -1],
        ] as const,
    )
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  for (const [, d] of edges) overlap = Math.max(overlap, (now += d));
}
console.log(JSON.stringify({ most_runs_at_once_on_one_gpu: overlap }));
store.close();
