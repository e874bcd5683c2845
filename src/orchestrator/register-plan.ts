// Writes a plan's runs to the store as they are expanded, a batch per transaction: a plan of
// 10^6 runs is never held whole, and other orchestrators and readers are not held off for all of it.
import { join } from 'node:path';
import type { RunSpec } from '../sweep-file/expand.js';
import type { OrchestratorStore } from '../store/interfaces.js';
import type { RunRegistration } from '../store/types.js';

const REGISTER_BATCH = 10_000;

/** What the store is told of one run. */
export function registration(run: RunSpec, sweepDir: string): RunRegistration {
  return {
    id: run.id,
    name: run.name,
    params: run.params,
    ordinal: run.ordinal,
    runDir: join(sweepDir, run.id),
    origin: run.origin,
  };
}

/** Registers every run (new ones queued, known ones refreshed); returns how many were written. */
export function registerPlan(
  store: Pick<OrchestratorStore, 'registerRuns'>,
  sweepPk: number,
  runs: Iterable<RunSpec>,
  sweepDir: string,
): number {
  let batch: RunRegistration[] = [];
  let count = 0;
  for (const run of runs) {
    batch.push(registration(run, sweepDir));
    if (batch.length === REGISTER_BATCH) {
      store.registerRuns(sweepPk, batch);
      count += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) store.registerRuns(sweepPk, batch);
  return count + batch.length;
}
