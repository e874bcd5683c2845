// Matrix-multiply throughput of the wasm backend against PyTorch on one thread, on the shapes of
// the reference tiny CLIP's step (and one square case): the ceiling that bounds the built-in
// trainer's speed on a CPU. Prints GFLOP/s; asserts nothing. Usage: node dist/bench/trainer/gemm.js
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/trainer/backend.js';

const shapes: [number, number, number][] = [
  [1024, 1024, 1024],
  [4096, 128, 512],
  [4096, 512, 128],
  [1024, 128, 384],
];

await selectBackend('wasm');
for (const [m, k, n] of shapes) {
  const a = tf.randomNormal([m, k]) as tf.Tensor2D;
  const b = tf.randomNormal([k, n]) as tf.Tensor2D;
  for (let i = 0; i < 3; i++) tf.matMul(a, b).dispose();
  const reps = Math.max(3, Math.round(2e10 / (2 * m * k * n)));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`tfjs wasm ${m}x${k}x${n}: ${((2 * m * k * n * reps) / s / 1e9).toFixed(1)} GFLOP/s`);
  tf.dispose([a, b]);
}
const py = `
import time, torch
torch.set_num_threads(1)
for m, k, n in ${JSON.stringify(shapes)}:
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3): a @ b
    reps = max(3, round(2e10 / (2 * m * k * n)))
    t = time.perf_counter()
    for _ in range(reps): a @ b
    print(f"torch (1 thread) {m}x{k}x{n}: {2 * m * k * n * reps / (time.perf_counter() - t) / 1e9:.1f} GFLOP/s")
`;
try {
  process.stdout.write(
    execFileSync('/usr/bin/python3', ['-c', py], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
    }),
  );
} catch (e) {
  console.log(`torch: not run (${(e as Error).message.split('\n')[0]})`);
}
