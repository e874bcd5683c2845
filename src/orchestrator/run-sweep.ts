// `sweep run`: registers the plan, recovers runs a dead orchestrator left, queues the rest over
// the executor's slots (run-queue.ts), records metrics, and moves each run through its states.
// The plan is read from the store a page at a time and the queue holds run keys, so a sweep of
// 10,000 runs never holds 10,000 run records.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ClipsweepError, DiskFullError, isDiskFull, pathOf } from '../errors.js';
import { Recorder } from '../metrics/recorder.js';
import { decideRun } from '../plan/decide.js';
import { runPaths } from '../plan/job.js';
import { createProposer } from '../search/propose.js';
import type { OrchestratorStore } from '../store/interfaces.js';
import type { RunRecord } from '../store/types.js';
import type { RunRef, SweepEvent, SweepSummaryCounts } from './events.js';
import { ownerLiveness, SelfLiveness } from './liveness.js';
import { PruneLoop } from './pruning.js';
import { proposals } from './proposals.js';
import { moveToArchive } from './run-folder.js';
import type { RunSweepInput } from './input.js';
import { registerPlan, registration } from './register-plan.js';
import { runQueue } from './run-queue.js';
import { startGpuUse } from './gpu-use.js';

export type { RunSweepInput } from './input.js';

export async function runSweep(input: RunSweepInput): Promise<SweepSummaryCounts> {
  try {
    return await runSweepHere(input);
  } catch (error) {
    throw isDiskFull(error) && !(error instanceof DiskFullError) ? diskFull(error, input) : error;
  }
}

/** Where a full disk was hit, for the one line the user reads. */
function diskFull(error: unknown, input: RunSweepInput): DiskFullError {
  const where =
    (error as { code?: unknown }).code === 'SQLITE_FULL' ? input.store.file : (pathOf(error) ?? input.runsDir);
  return new DiskFullError(
    where,
    'the sweep stopped its runs; free space there and run the same command again to resume',
    { cause: error },
  );
}

async function runSweepHere(userInput: RunSweepInput): Promise<SweepSummaryCounts> {
  // A full disk (or a recorder that cannot read or write) stops the whole sweep as Ctrl-C would:
  // children are stopped, nothing more is written, and the error is thrown once they are gone.
  const halt = new AbortController();
  // Set from callbacks (timers, the queue): a holder, so that reads after them are not narrowed away.
  const stopped: { fatal: { error: unknown } | null } = { fatal: null };
  const stopFor = (error: unknown): void => {
    if (stopped.fatal !== null) return;
    stopped.fatal = { error };
    halt.abort();
  };
  const input: RunSweepInput = { ...userInput, signal: AbortSignal.any([userInput.signal, halt.signal]) };
  const { spec, store, executor, onEvent } = input;
  // Slots first: a bad resources section fails before anything is written.
  const slots = await executor.slots();
  const sweep = store.registerSweep({
    name: spec.name,
    specPath: spec.file,
    spec: input.specRecord,
    specHash: input.specHash,
    runsDir: input.runsDir,
  });
  registerPlan(store, sweep.pk, input.plan.runs(), join(input.runsDir, spec.name));

  const owner = `${input.host}:${input.pid}:${randomUUID().slice(0, 8)}`;
  store.registerOrchestrator({ id: owner, pid: input.pid, host: input.host });
  const staleAfterMs = input.staleAfterMs ?? 60_000;
  const self = new SelfLiveness(staleAfterMs);
  const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;
  const pausedTooLong = (): ClipsweepError =>
    new ClipsweepError(
      'EXECUTOR',
      `this sweep process was paused for ${seconds(self.silentFor())}, longer than the ${seconds(staleAfterMs)} after which another sweep process may take its runs over; it stopped and left them. Run "sweep status ${spec.name}" to see where they are`,
    );
  const heartbeat = setInterval(() => {
    if (!self.mayStart()) {
      // Paused past the heartbeat: another sweep process may own these runs now. Stop, and leave
      // them to it (nothing more is started here, and lost runs are not reported as failed).
      stopFor(pausedTooLong());
      return;
    }
    try {
      store.heartbeat(owner);
      self.beat();
    } catch (error) {
      stopFor(error);
    }
  }, input.heartbeatMs ?? 2000);
  heartbeat.unref();
  const isLiveOwner = ownerLiveness(store, { self: owner, host: input.host, staleAfterMs });

  // Runs a search proposed as results came in (now or before) are part of the plan: few, so held.
  const proposed = new Set<string>();
  const proposer = createProposer(spec);
  if (proposer !== null)
    for (const run of store.eachRun(sweep.pk))
      if (run.origin === 'random' || run.origin === 'tpe') proposed.add(run.id);
  const planRuns = function* (): Generator<RunRecord> {
    // The store may hold runs of an earlier version of the spec: the plan decides, without being expanded.
    for (const run of store.eachRun(sweep.pk))
      if (proposed.has(run.id) || input.plan.includes(run.id, run.params)) yield run;
  };
  // Names of the runs in flight, for events.
  const refs = new Map<number, RunRef>();

  const pruner = spec.earlyTermination
    ? new PruneLoop(
        store,
        spec.earlyTermination,
        () => [...planRuns()],
        (runPk, decision) => {
          const run = refs.get(runPk);
          if (run) onEvent({ type: 'run-prune', run, reason: decision.reason, rung: decision.rung });
        },
      )
    : null;
  const lastLoss = new Map<number, number>();
  const recorder = new Recorder(store, {
    pollMs: input.pollMs ?? 200,
    onError: stopFor,
    onProgress: (p) => {
      pruner?.notify(p.latest.keys());
      const run = refs.get(p.runPk);
      if (run && (p.rows > 0 || p.badLines > 0 || p.totalSteps !== null)) {
        const loss = p.latest.get('train/loss') ?? lastLoss.get(p.runPk) ?? null;
        if (loss !== null) lastLoss.set(p.runPk, loss);
        onEvent({
          type: 'run-progress',
          run,
          step: p.lastStep,
          totalSteps: p.totalSteps,
          trainLoss: loss,
          badLines: p.badLines,
        });
      }
    },
  });

  let skippedCount: number;
  // GPU measurement (and pack: memory) on the local executor; a batch scheduler owns its GPUs.
  const gpuUse =
    executor.name === 'local'
      ? await startGpuUse({
          store,
          sweepPk: sweep.pk,
          resources: spec.resources,
          trainer: (input.specRecord as { trainer?: unknown } | null)?.trainer,
          slots,
          ...(input.gpuMonitor ? { monitor: input.gpuMonitor } : {}),
        })
      : null;
  try {
    const attached = await recoverOrphans(planRuns(), isLiveOwner, input, recorder, refs, onEvent, owner);
    // Runs this process re-attached to are followed, not skipped.
    const followed = new Set(attached.map((run) => run.pk));
    const toRun: number[] = [];
    const skipped: { id: string; name: string; why: string }[] = [];
    let total = 0;
    for (const run of planRuns()) {
      total++;
      const decision = decideRun(run, input.policy, isLiveOwner);
      if (decision.action === 'skip') {
        if (!followed.has(run.pk)) skipped.push({ id: run.id, name: run.name, why: decision.why });
        continue;
      }
      if (decision.fresh) archiveRun(store, run);
      if (decision.requeueFrom !== null)
        store.requeueRun(
          run.pk,
          [decision.requeueFrom],
          input.policy.rerun ? 'rerun requested' : `resumed after ${decision.requeueFrom}`,
        );
      toRun.push(run.pk);
    }
    const search =
      proposer === null
        ? null
        : proposals(proposer, {
            spec,
            store,
            sweepPk: sweep.pk,
            planRuns,
            onEvent,
            register: (run) => {
              store.registerRuns(sweep.pk, [registration(run, join(input.runsDir, spec.name))]);
              proposed.add(run.id);
            },
          });
    const ahead = search?.remaining() ?? 0;
    onEvent({
      type: 'plan',
      sweep: spec.name,
      total: total + ahead,
      toRun: toRun.length + ahead,
      skipped,
      slots: slots.map((s) => s.id),
    });

    skippedCount = skipped.length;
    const onFatal = (error: unknown): boolean => {
      if (stopped.fatal === null && !isDiskFull(error)) return false;
      stopFor(error);
      return true;
    };
    await runQueue(toRun, attached, {
      input,
      slots,
      owner,
      recorder,
      refs,
      pruner,
      onFatal,
      mayStart: () => self.mayStart(),
      ...(search ? { propose: search.propose } : {}),
      ...(gpuUse
        ? {
            placement: gpuUse.placement,
            observer: gpuUse.observer,
            onChange: (wake: () => void) => gpuUse.onChange(wake),
          }
        : {}),
    });
    // After a pause the queue can run dry (its runs taken over, nothing startable) before the
    // heartbeat timer fires: the outcome must not depend on which of the two noticed first.
    if (stopped.fatal === null && !self.mayStart()) stopFor(pausedTooLong());
    // A sweep stopped for a full disk did not finish its search: the check below is for a whole run.
    if (stopped.fatal === null) search?.check();
  } finally {
    await gpuUse?.close();
    recorder.poll();
    recorder.close();
    pruner?.close();
    clearInterval(heartbeat);
    try {
      store.endOrchestrator(owner);
    } catch (error) {
      // A database that cannot be written keeps this process's runs as "running"; the next
      // sweep run sees it died and recovers them. The error is thrown below, after cleanup.
      stopFor(error);
    }
  }
  const failure = stopped.fatal;
  if (failure !== null) throw isDiskFull(failure.error) ? diskFull(failure.error, input) : failure.error;

  const summary = { ...summarise(spec.name, planRuns(), userInput.signal.aborted), skipped: skippedCount };
  onEvent({ type: 'sweep-end', summary });
  return summary;
}

async function recoverOrphans(
  runs: Iterable<RunRecord>,
  isLiveOwner: (owner: string | null) => boolean,
  input: RunSweepInput,
  recorder: Recorder,
  refs: Map<number, RunRef>,
  onEvent: (event: SweepEvent) => void,
  owner: string,
): Promise<RunRecord[]> {
  const attached: RunRecord[] = [];
  for (const run of runs) {
    if (run.status !== 'running' || isLiveOwner(run.owner)) continue;
    // A batch job outlives its orchestrator: take the run over and follow the same job (no resubmission).
    if (input.executor.attach !== undefined && run.jobId !== null) {
      const detail = `re-attached to ${input.executor.name} job ${run.jobId} (the sweep process running it, ${run.owner ?? 'unknown'}, died)`;
      if (input.store.transferRun(run.pk, run.owner ?? '', owner, detail)) {
        attached.push(input.store.getRun(run.pk));
        onEvent({ type: 'recovered', run: { id: run.id, name: run.name }, detail });
      }
      continue;
    }
    const stopped = await input.executor.stopOrphan(
      { runId: run.id, runDir: run.runDir, pid: run.pid, jobId: run.jobId },
      input.spec.killGraceMs,
    );
    // Whatever the orphan wrote after the last ingestion is read now, before the run goes back in the queue.
    const paths = runPaths(run.runDir);
    refs.set(run.pk, { id: run.id, name: run.name });
    recorder.watch({
      runPk: run.pk,
      attempt: run.attempt,
      metricsFile: paths.metricsFile,
      problemsFile: paths.problemsFile,
      offset: run.metricsOffset,
      linesBefore: run.metricLines + run.badLines,
    });
    recorder.finish(run.pk);
    refs.delete(run.pk);
    const detail = `the sweep process running it (${run.owner ?? 'unknown'}) died${stopped === 'stopped' ? '; its child was stopped' : ''}`;
    if (input.store.markOrphaned(run.pk, run.owner ?? '', detail))
      onEvent({ type: 'recovered', run: { id: run.id, name: run.name }, detail });
  }
  return attached;
}

/** A deliberate re-run starts clean; the old folder is kept beside it, never deleted. */
function archiveRun(db: OrchestratorStore, run: RunRecord): void {
  moveToArchive(run.runDir, run.id);
  db.resetRunData(run.pk);
}

function summarise(sweep: string, runs: Iterable<RunRecord>, interruptedBySignal: boolean): SweepSummaryCounts {
  const counts: Record<RunRecord['status'], number> = {
    queued: 0,
    running: 0,
    completed: 0,
    failed: 0,
    interrupted: 0,
    infeasible: 0,
    pruned: 0,
  };
  let total = 0;
  for (const run of runs) {
    total++;
    counts[run.status]++;
  }
  return { sweep, total, ...counts, skipped: 0, interruptedBySignal };
}
