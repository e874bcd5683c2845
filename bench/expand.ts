// npm run bench:expand: expansion of a 10^6-point grid (100 x 100 x 100), each figure in a
// fresh process so that its peak RSS (VmHWM) is its own. Prints figures; asserts nothing.
//   stream:   plan (with --force) and walk every run, holding none;
//   register: the same, written to a fresh SQLite database as `sweep run --force` does;
//   eager:    every run held in one list at once (expandSweep), for comparison.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { registerPlan } from '../src/orchestrator/register-plan.js';
import { expandSweep, planSweep } from '../src/sweep-file/expand.js';
import { parseSweep } from '../src/sweep-file/load.js';
import { SqliteStore } from '../src/store/sqlite-store.js';

const values = `[${Array.from({ length: 100 }, (_, i) => i).join(',')}]`;
const SPEC = `name: expand\ntrainer: { command: ["/bin/true"] }\ngrid: { a: ${values}, b: ${values}, c: ${values} }\nresources: { gpus: none, cpu_slots: 4 }\n`;

const peakRssMiB = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

function child(mode: string, dir: string): string {
  const spec = parseSweep(SPEC, join(dir, 'expand.yaml'));
  const start = performance.now();
  let count = 0;
  if (mode === 'stream') {
    for (const run of planSweep(spec, { force: true }).runs()) count = run.ordinal + 1;
  } else if (mode === 'register') {
    const store = SqliteStore.open(join(dir, 'sweeps.db'));
    const sweep = store.registerSweep({
      name: spec.name,
      specPath: spec.file,
      spec: {},
      specHash: 'bench',
      runsDir: dir,
    });
    count = registerPlan(store, sweep.pk, planSweep(spec, { force: true }).runs(), join(dir, spec.name));
    store.close();
  } else {
    count = expandSweep(spec, { force: true }).length;
  }
  const seconds = (performance.now() - start) / 1000;
  return `${mode.padEnd(8)}  ${count} runs in ${seconds.toFixed(1)} s (${Math.round(count / seconds)} runs/s), peak RSS ${peakRssMiB().toFixed(0)} MiB`;
}

const [mode, dir] = process.argv.slice(2);
if (mode !== undefined && dir !== undefined) {
  console.log(child(mode, dir));
} else {
  console.log('Expansion of a 10^6-point grid (100 x 100 x 100), --force, each in a fresh process');
  for (const m of ['stream', 'register', 'eager']) {
    const tmp = mkdtempSync(join(tmpdir(), 'clipsweep-bench-expand-'));
    const result = await execa(process.execPath, [fileURLToPath(import.meta.url), m, tmp], {
      reject: false,
      all: true,
    });
    console.log(`  ${result.all.trim()}`);
    rmSync(tmp, { recursive: true, force: true });
  }
}
