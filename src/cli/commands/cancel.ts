// `sweep cancel SWEEP`: stops a sweep. A live sweep process on this host gets SIGTERM first, so it
// stops its runs in order and marks them interrupted; then the runs' SLURM jobs are scancelled
// (they outlive a dead orchestrator) and local runs of a dead orchestrator get SIGTERM.
import { isAlive, isRunGroup, signalGroup, sleep } from '../../executor/process-group.js';
import { SlurmCli } from '../../executor/slurm/cli.js';
import { hostname } from 'node:os';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';
import { openExistingStore } from './status.js';

export interface CancelOptions {
  sweep: string;
  runsDir?: string | undefined;
  db?: string | undefined;
}

export async function cancelCommand(options: CancelOptions, io: Io): Promise<number> {
  const store = openExistingStore(options, io.cwd);
  try {
    const sweep = store.getSweep(options.sweep);
    const running = store.listRuns(sweep.pk).filter((r) => r.status === 'running');
    const here = hostname();
    const liveOwners = new Set<string>();
    for (const owner of new Set(running.map((r) => r.owner).filter((o): o is string => o !== null))) {
      const record = store.getOrchestrator(owner);
      if (record && record.endedAt === null && record.host === here && isAlive(record.pid)) {
        process.kill(record.pid, 'SIGTERM');
        liveOwners.add(owner);
        io.out.write(`sent SIGTERM to sweep process ${record.pid}\n`);
      }
    }
    // Let a signalled sweep process cancel its own jobs first: it then records them as interrupted.
    if (liveOwners.size > 0) await sleep(500);
    const jobIds = running.flatMap((r) => (r.jobId !== null ? [r.jobId] : []));
    if (jobIds.length > 0) {
      await new SlurmCli().cancel(jobIds);
      io.out.write(`scancel ${jobIds.join(' ')}\n`);
    }
    let stopped = 0;
    for (const run of running) {
      if (run.jobId !== null || run.pid === null || liveOwners.has(run.owner ?? '')) continue;
      // Only a group with a process whose environment names the run is ours to signal: pids get recycled.
      if (isRunGroup(run.pid, run.id, run.runDir) === true && signalGroup(run.pid, 'SIGTERM')) stopped++;
    }
    if (stopped > 0) io.out.write(`sent SIGTERM to ${stopped} local run(s)\n`);
    if (running.length === 0) io.out.write(`sweep ${sweep.name} has no running runs\n`);
    return EXIT.ok;
  } finally {
    store.close();
  }
}
