// Finds (or, as root, starts) the test SLURM of test/slurm/start.sh. Without SLURM and without
// root the SLURM tests are skipped with this reason, which says how to run them.
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../helpers.js';

export const START = join(ROOT, 'test/slurm/start.sh');
export const STOP = join(ROOT, 'test/slurm/stop.sh');

export interface Cluster {
  /** Null when SLURM is usable; otherwise why the tests are skipped. */
  skip: string | null;
  /** We started it, so we stop it. */
  startedHere: boolean;
}

async function answers(): Promise<boolean> {
  const r = await execa('scontrol', ['ping'], { reject: false, stdin: 'ignore', timeout: 10_000 });
  return !r.failed && /UP/.test(String(r.stdout));
}

export async function ensureSlurm(): Promise<Cluster> {
  if (await answers()) return { skip: null, startedHere: false };
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) {
    return {
      skip: `SLURM is not running and we are not root: run "sudo ${START}" (installs munge and slurm from apt, starts a one-node cluster with 2 fake GPUs), then npm test again; "sudo ${STOP}" stops it`,
      startedHere: false,
    };
  }
  const r = await execa(START, [], { reject: false, stdin: 'ignore', all: true, timeout: 300_000 });
  if (r.failed) return { skip: `test/slurm/start.sh failed: ${String(r.all).slice(-2000)}`, startedHere: false };
  return { skip: null, startedHere: true };
}

export async function stopSlurm(cluster: Cluster): Promise<void> {
  if (cluster.startedHere) await execa(STOP, [], { reject: false, stdin: 'ignore', timeout: 120_000 });
}
