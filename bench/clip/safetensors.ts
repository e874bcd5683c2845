// node dist/bench/clip/safetensors.js [--values N] [--rounds R]
// Figures only: throughput of encode+write and read+decode for one N-value tensor in F16, BF16
// and F32 (the reference), each the median of R rounds. Reads come from the page cache (the file
// was just written), so they measure parsing and decoding, not the disk.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readSafetensors, writeSafetensors, type Dtype } from '../../src/clip/safetensors.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer, got ${argv[i + 1]}`);
  return value;
};
const n = opt('values', 32 * 2 ** 20);
const rounds = opt('rounds', 3);

// Weight-like values (a few scales) from a small LCG: deterministic, and not all one exponent.
const values = new Float32Array(n);
let seed = 12345;
for (let i = 0; i < n; i++) {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  values[i] = (seed / 2 ** 32 - 0.5) * 2 ** ((seed & 15) - 10);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-st-'));
const mb = (bytes: number) => bytes / 1e6;
console.log(
  `safetensors bench: ${n} values (${mb(n * 4).toFixed(0)} MB as F32), median of ${rounds} rounds, node ${process.version}`,
);
try {
  for (const dtype of ['F16', 'BF16', 'F32'] as Dtype[]) {
    const path = join(dir, `${dtype}.safetensors`);
    const writes: number[] = [];
    const reads: number[] = [];
    let check = 0;
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      writeSafetensors(path, [{ name: 'w', dtype, shape: [n], data: values }]);
      writes.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      const decoded = readSafetensors(path).float32('w');
      reads.push((performance.now() - t0) / 1000);
      check += decoded[n - 1]!; // keeps the decode observable
    }
    const fileBytes = statSync(path).size;
    const w = median(writes);
    const rd = median(reads);
    console.log(
      `${dtype.padEnd(4)} file ${mb(fileBytes).toFixed(0)} MB | encode+write ${w.toFixed(2)} s = ${(mb(fileBytes) / w).toFixed(0)} MB/s of file, ` +
        `${(n / w / 1e6).toFixed(0)} M values/s | read+decode ${rd.toFixed(2)} s = ${(mb(fileBytes) / rd).toFixed(0)} MB/s of file, ` +
        `${(n / rd / 1e6).toFixed(0)} M values/s | 150M values: write ~${((150e6 / n) * w).toFixed(1)} s, read ~${((150e6 / n) * rd).toFixed(1)} s` +
        (Number.isNaN(check) ? ' (NaN seen)' : ''),
    );
    rmSync(path);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
