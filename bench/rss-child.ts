// Runs a 10,000-run sweep in this process and prints its peak resident memory (VmHWM).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LocalExecutor } from '../src/executor/local.js';
import { runSweep } from '../src/orchestrator/run-sweep.js';
import { planSweep } from '../src/sweep-file/expand.js';
import { parseSweep } from '../src/sweep-file/load.js';
import { SqliteStore } from '../src/store/sqlite-store.js';

const dir = process.argv[2]!;
const N = 10_000;
const spec = parseSweep(
  `name: rss\ntrainer: { command: ["/bin/true"] }\ngrid: { a: [${Array.from({ length: 100 }, (_, i) => i).join(',')}], b: [${Array.from({ length: 100 }, (_, i) => i).join(',')}] }\nresources: { gpus: none, cpu_slots: 4 }\n`,
  join(dir, 'rss.yaml'),
);
// Where the memory is at the highest sample: V8's heap, memory outside it that V8 knows of
// (buffers), and the rest (code, the Node binary, SQLite, malloc).
let peak = process.memoryUsage();
const sampler = setInterval(() => {
  const now = process.memoryUsage();
  if (now.rss > peak.rss) peak = now;
}, 25);
const plan = planSweep(spec, { force: true });
const store = SqliteStore.open(join(dir, 'sweeps.db'));
let peakQueued = 0;
const start = performance.now();
const summary = await runSweep({
  spec,
  specRecord: {},
  specHash: 'rss',
  plan,
  store,
  executor: new LocalExecutor({ resources: spec.resources, specFile: spec.file }),
  runsDir: join(dir, 'runs'),
  policy: { retryFailed: true, retryInfeasible: false, rerun: false },
  signal: new AbortController().signal,
  onEvent: (e) => {
    if (e.type === 'plan') peakQueued = e.toRun;
  },
  jobContext: { nodePath: process.execPath, home: '/tmp', specDir: '/tmp' },
  host: hostname(),
  pid: process.pid,
});
clearInterval(sampler);
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);
console.log(
  `${N} runs planned, ${peakQueued} queued at once, ${summary.completed} completed in ${((performance.now() - start) / 1000).toFixed(1)} s`,
);
console.log(`peak RSS (VmHWM): ${hwm ? (Number(hwm) / 1024).toFixed(0) : '?'} MB (target < 200 MB)`);
console.log(
  `at the highest sample (every 25 ms), RSS ${mb(peak.rss)} MB: V8 heap ${mb(peak.heapTotal)} MB (${mb(peak.heapUsed)} in use), external ${mb(peak.external)} MB, the rest (code, native, SQLite) ${mb(peak.rss - peak.heapTotal - peak.external)} MB`,
);
store.close();
