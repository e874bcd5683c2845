// `sweep run`: registers the plan, recovers runs a dead orchestrator left, queues the rest over
// the executor's slots, records metrics, and moves each run through its states.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import PQueue from 'p-queue';
import type { Executor, RunOutcome } from '../executor/types.js';
import { Recorder } from '../metrics/recorder.js';
import { decideRuns, type ResumePolicy } from '../plan/decide.js';
import { buildJob, runPaths, type JobContext } from '../plan/job.js';
import { createTranslator, type Verdict } from '../metrics/adapters/index.js';
import type { Slot } from '../resources/gpus.js';
import type { RunSpec } from '../spec/expand.js';
import type { SweepSpec } from '../spec/load.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { RunRecord } from '../store/types.js';
import type { RunRef, SweepEvent, SweepSummaryCounts } from './events.js';
import { ownerLiveness } from './liveness.js';
import { PruneLoop } from './pruning.js';

export interface RunSweepInput {
  spec: SweepSpec;
  /** The spec as stored with the sweep (what was asked, before any defaults). */
  specRecord: unknown;
  specHash: string;
  runs: readonly RunSpec[];
  store: SqliteStore;
  executor: Executor;
  /** Absolute; runs live in <runsDir>/<sweep>/<run-id>/. */
  runsDir: string;
  policy: ResumePolicy;
  signal: AbortSignal;
  onEvent: (event: SweepEvent) => void;
  /** Resolved once by the CLI: the Node binary, home folder, the sweep file's folder, PYTHONPATH. */
  jobContext: JobContext;
  host: string;
  pid: number;
  pollMs?: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
}

export async function runSweep(input: RunSweepInput): Promise<SweepSummaryCounts> {
  const { spec, store, executor, signal, onEvent } = input;
  // Slots first: a bad resources section fails before anything is written.
  const slots = await executor.slots();
  const sweep = store.registerSweep({ name: spec.name, specPath: spec.file, spec: input.specRecord, specHash: input.specHash, runsDir: input.runsDir });
  const sweepDir = join(input.runsDir, spec.name);
  store.registerRuns(sweep.pk, input.runs.map((run) => ({ ...run, runDir: join(sweepDir, run.id) })));

  const owner = `${input.host}:${input.pid}:${randomUUID().slice(0, 8)}`;
  store.registerOrchestrator({ id: owner, pid: input.pid, host: input.host });
  const heartbeat = setInterval(() => store.heartbeat(owner), input.heartbeatMs ?? 2000);
  heartbeat.unref();
  const isLiveOwner = ownerLiveness(store, { self: owner, host: input.host, staleAfterMs: input.staleAfterMs ?? 60_000 });

  const planned = new Set(input.runs.map((run) => run.id));
  const refs = new Map<number, RunRef>();
  const loadPlanRuns = (): RunRecord[] => store.listRuns(sweep.pk).filter((run) => planned.has(run.id));
  for (const run of loadPlanRuns()) refs.set(run.pk, { id: run.id, name: run.name });

  const pruner = spec.earlyTermination
    ? new PruneLoop(store, spec.earlyTermination, loadPlanRuns, (runPk, decision) => {
        const run = refs.get(runPk);
        if (run) onEvent({ type: 'run-prune', run, reason: decision.reason, rung: decision.rung });
      })
    : null;
  const lastLoss = new Map<number, number>();
  const recorder = new Recorder(store, {
    pollMs: input.pollMs ?? 200,
    onProgress: (p) => {
      pruner?.notify(p.latest.keys());
      const run = refs.get(p.runPk);
      if (run && (p.rows > 0 || p.badLines > 0 || p.totalSteps !== null)) {
        const loss = p.latest.get('train/loss') ?? lastLoss.get(p.runPk) ?? null;
        if (loss !== null) lastLoss.set(p.runPk, loss);
        onEvent({ type: 'run-progress', run, step: p.lastStep, totalSteps: p.totalSteps, trainLoss: loss, badLines: p.badLines });
      }
    },
  });

  let skippedCount = 0;
  try {
    const attached = await recoverOrphans(loadPlanRuns(), isLiveOwner, input, recorder, onEvent, owner);
    const decisions = decideRuns(loadPlanRuns(), input.policy, isLiveOwner);
    const toRun: RunRecord[] = [];
    for (const decision of decisions) {
      if (decision.action === 'skip') continue;
      const { run } = decision;
      if (decision.fresh) archiveRun(store, run);
      if (decision.requeueFrom !== null) store.requeueRun(run.pk, [decision.requeueFrom], input.policy.rerun ? 'rerun requested' : `resumed after ${decision.requeueFrom}`);
      toRun.push(run);
    }
    // Runs this process re-attached to are followed, not skipped.
    const followed = new Set(attached.map((run) => run.pk));
    const skipped = decisions.flatMap((d) => (d.action === 'skip' && !followed.has(d.run.pk) ? [{ id: d.run.id, name: d.run.name, why: d.why }] : []));
    onEvent({ type: 'plan', sweep: spec.name, total: decisions.length, toRun: toRun.length, skipped, slots: slots.map((s) => s.id) });

    skippedCount = skipped.length;
    await runQueue(toRun, slots, owner, input, recorder, refs, attached, pruner);
  } finally {
    recorder.poll();
    recorder.close();
    pruner?.close();
    clearInterval(heartbeat);
    store.endOrchestrator(owner);
  }

  const summary = { ...summarise(spec.name, loadPlanRuns(), signal.aborted), skipped: skippedCount };
  onEvent({ type: 'sweep-end', summary });
  return summary;
}

async function recoverOrphans(
  runs: RunRecord[],
  isLiveOwner: (owner: string | null) => boolean,
  input: RunSweepInput,
  recorder: Recorder,
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
    const stopped = await input.executor.stopOrphan({ runId: run.id, runDir: run.runDir, pid: run.pid, jobId: run.jobId }, input.spec.killGraceMs);
    // Whatever the orphan wrote after the last ingestion is read now, before the run goes back in the queue.
    const paths = runPaths(run.runDir);
    recorder.watch({ runPk: run.pk, attempt: run.attempt, metricsFile: paths.metricsFile, problemsFile: paths.problemsFile, offset: run.metricsOffset, linesBefore: run.metricLines + run.badLines });
    recorder.finish(run.pk);
    const detail = `the sweep process running it (${run.owner ?? 'unknown'}) died${stopped === 'stopped' ? '; its child was stopped' : ''}`;
    if (input.store.markOrphaned(run.pk, run.owner ?? '', detail)) onEvent({ type: 'recovered', run: { id: run.id, name: run.name }, detail });
  }
  return attached;
}

/** A deliberate re-run starts clean; the old folder is kept beside it, never deleted. */
function archiveRun(db: SqliteStore, run: RunRecord): void {
  moveToArchive(run.runDir, run.id);
  db.resetRunData(run.pk);
}

function moveToArchive(runDir: string, id: string): void {
  const archive = join(dirname(runDir), '.archive', `${id}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  try {
    mkdirSync(dirname(archive), { recursive: true });
    renameSync(runDir, archive);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function runQueue(
  runs: RunRecord[],
  slots: Slot[],
  owner: string,
  input: RunSweepInput,
  recorder: Recorder,
  refs: Map<number, RunRef>,
  attached: readonly RunRecord[] = [],
  pruner: PruneLoop | null = null,
): Promise<void> {
  const { spec, store: db, signal, onEvent } = input;
  const queue = new PQueue({ concurrency: Math.max(1, slots.length) });
  const busy = new Set<string>();
  const attemptsHere = new Map<number, number>();
  const onAbort = (): void => queue.clear();
  signal.addEventListener('abort', onAbort, { once: true });

  const schedule = (runPk: number): void => {
    void queue.add(() =>
      attempt(runPk).catch((error: unknown) => {
        // The executor could not work for this run: the run fails with the reason, the sweep goes on.
        const message = (error as Error)?.message ?? String(error);
        onEvent({ type: 'warning', message: `run ${refs.get(runPk)?.name ?? runPk}: ${message}` });
        db.finishRun(runPk, owner, { status: 'failed', failureKind: 'spawn', reason: `clipsweep could not run it: ${message}` });
      }),
    );
  };

  /**
   * Everything around one execution, new or re-attached: the output translator, the recorder,
   * progress, the run's own abort signal for early termination, and the translator's verdict.
   */
  const track = async <T extends RunOutcome | 'unknown'>(
    run: RunRecord,
    slot: Slot,
    argv: readonly string[],
    resultsFile: string | null,
    execute: (runSignal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const paths = runPaths(run.runDir);
    const ref = refs.get(run.pk)!;
    const translator = createTranslator({
      spec,
      params: run.params,
      argv,
      files: { stdout: paths.stdoutFile, stderr: paths.stderrFile, metrics: paths.metricsFile, problems: paths.problemsFile },
      resultsFile,
    });
    recorder.watch({ runPk: run.pk, attempt: run.attempt, metricsFile: paths.metricsFile, problemsFile: paths.problemsFile, offset: run.metricsOffset, linesBefore: run.metricLines + run.badLines, totalSteps: run.totalSteps, translator });
    onEvent({ type: 'run-start', run: ref, slot: slot.id, attempt: run.attempt });
    // Early termination stops one run through its own signal; Ctrl-C stops them all.
    const runSignal = pruner ? AbortSignal.any([signal, pruner.track(run.pk)]) : signal;
    let outcome: T;
    try {
      outcome = await execute(runSignal);
    } finally {
      pruner?.untrack(run.pk);
      recorder.finish(run.pk);
    }
    if (!translator || outcome === 'unknown') return outcome;
    return applyVerdict(outcome as RunOutcome, translator.verdict(), (message) => onEvent({ type: 'warning', message: `${ref.name}: ${message}` })) as T;
  };

  const attempt = async (runPk: number): Promise<void> => {
    if (signal.aborted) return;
    const record = db.getRun(runPk);
    if (record.status !== 'queued') return;
    const eligible = slots.filter((s) => s.gpu === null || !record.excludedGpus.includes(s.gpu));
    const ref = refs.get(runPk)!;
    if (eligible.length === 0) {
      if (db.claimRun(runPk, owner, 'none', null)) {
        db.finishRun(runPk, owner, { status: 'infeasible', failureKind: 'oom', reason: `out of memory on every GPU it may use (excluded: ${record.excludedGpus.join(', ')})` });
      }
      return;
    }
    const slot = eligible.find((s) => !busy.has(s.id));
    if (slot === undefined) {
      // Only slots this run may not use are free: let others go first, try again shortly.
      await new Promise((resolve) => setTimeout(resolve, 50));
      schedule(runPk);
      return;
    }
    busy.add(slot.id);
    let outcome: RunOutcome;
    let attemptNo: number;
    try {
      if (!db.claimRun(runPk, owner, slot.id, slot.gpu)) return; // another sweep process took it
      const claimed = db.getRun(runPk);
      attemptNo = claimed.attempt;
      attemptsHere.set(runPk, (attemptsHere.get(runPk) ?? 0) + 1);
      const paths = runPaths(claimed.runDir);
      // A first attempt in this database must not read a folder left by another database (or a
      // deleted one): that folder is archived, not reused and not deleted.
      if (attemptNo === 1 && claimed.metricsOffset === 0 && existsSync(claimed.runDir)) moveToArchive(claimed.runDir, claimed.id);
      mkdirSync(paths.checkpointDir, { recursive: true });
      writeJsonAtomic(paths.configFile, {
        sweep: spec.name,
        run_id: claimed.id,
        name: claimed.name,
        params: claimed.params,
        trainer: spec.trainer,
        attempt: attemptNo,
        slot: slot.id,
        gpu: slot.gpu,
        started_at: new Date().toISOString(),
      });
      const { job, resultsFile } = buildJob(spec, claimed, paths, attemptNo, input.jobContext);
      const result = await track(claimed, slot, job.argv, resultsFile, (runSignal) =>
        input.executor.run(job, slot, { signal: runSignal, onStart: (pid) => db.setPid(runPk, owner, pid), onSubmit: (jobId) => db.setJobId(runPk, owner, jobId) }),
      );
      outcome = result as RunOutcome;
    } finally {
      busy.delete(slot.id);
    }
    settle(runPk, ref, slot, attemptNo, outcome);
  };

  const settle = (runPk: number, ref: RunRef, slot: Slot, attemptNo: number, outcome: RunOutcome): void => {
    const end = (status: 'completed' | 'failed' | 'interrupted' | 'infeasible' | 'pruned', willRetry: boolean): void => {
      const reason = outcome.status === 'completed' ? null : outcome.reason;
      const stderrTail = outcome.status === 'completed' ? undefined : outcome.stderrTail;
      onEvent({ type: 'run-end', run: ref, status, attempt: attemptNo, reason, willRetry, durationMs: outcome.durationMs, ...(stderrTail ? { stderrTail } : {}) });
    };
    if (outcome.status === 'completed') {
      db.finishRun(runPk, owner, { status: 'completed', exitCode: 0 });
      return end('completed', false);
    }
    const fields = { exitCode: outcome.exitCode, signal: outcome.signal, reason: outcome.reason, stderrTail: outcome.stderrTail };
    const prune = pruner?.decisions.get(runPk);
    if (prune && !signal.aborted) {
      // Stopped on purpose: not a failure, never re-run on resume; the decision and rung are kept.
      db.finishRun(runPk, owner, { status: 'pruned', ...fields, reason: `pruned: ${prune.reason}`, pruneRung: prune.rung });
      return end('pruned', false);
    }
    if (outcome.status === 'interrupted') {
      db.finishRun(runPk, owner, { status: 'interrupted', failureKind: 'interrupted', ...fields });
      return end('interrupted', false);
    }
    if (outcome.kind === 'oom') {
      // Out of memory is a property of the configuration on that hardware: no blind retry.
      const excluded = slot.gpu === null ? [] : db.excludeGpu(runPk, slot.gpu);
      const bigger = slots.some((s) => s.gpu !== null && !excluded.includes(s.gpu) && (s.gpuMemoryMiB ?? 0) > (slot.gpuMemoryMiB ?? 0));
      if (bigger && !signal.aborted && db.requeueRun(runPk, ['running'], `attempt ${attemptNo} ${outcome.reason} on ${slot.id}; trying a GPU with more memory`, owner)) {
        end('failed', true);
        return schedule(runPk);
      }
      db.finishRun(runPk, owner, { status: 'infeasible', failureKind: 'oom', ...fields, reason: `${outcome.reason} (on ${slot.id})` });
      return end('infeasible', false);
    }
    const retriesLeft = (attemptsHere.get(runPk) ?? 1) <= spec.retries;
    if (retriesLeft && !signal.aborted && db.requeueRun(runPk, ['running'], `attempt ${attemptNo} failed: ${outcome.reason}`, owner)) {
      end('failed', true);
      return schedule(runPk);
    }
    db.finishRun(runPk, owner, { status: 'failed', failureKind: outcome.kind, ...fields });
    end('failed', false);
  };

  // A run whose batch job outlived the orchestrator that submitted it: followed to its end on a
  // slot of its own, then settled like any other attempt.
  const follow = async (run: RunRecord): Promise<void> => {
    const slot = slots.find((s) => !busy.has(s.id))!; // attached runs are queued first: a slot is free
    const ref = refs.get(run.pk)!;
    busy.add(slot.id);
    attemptsHere.set(run.pk, 1);
    let outcome: RunOutcome | 'unknown';
    try {
      const { job, resultsFile } = buildJob(spec, run, runPaths(run.runDir), run.attempt, input.jobContext);
      outcome = await track(run, slot, job.argv, resultsFile, (runSignal) =>
        input.executor.attach!({ runId: run.id, runDir: run.runDir, pid: run.pid, jobId: run.jobId! }, slot, { signal: runSignal, onSubmit: (jobId) => db.setJobId(run.pk, owner, jobId) }),
      );
    } finally {
      busy.delete(slot.id);
    }
    if (outcome === 'unknown') {
      // The scheduler has no record of the job: an orphan after all, so it runs again.
      const detail = `${input.executor.name} job ${run.jobId} is unknown to the scheduler`;
      if (db.markOrphaned(run.pk, owner, detail) && !signal.aborted && db.requeueRun(run.pk, ['interrupted'], `resumed after interrupted: ${detail}`)) schedule(run.pk);
      return;
    }
    settle(run.pk, ref, slot, run.attempt, outcome);
  };

  for (const run of attached) {
    void queue.add(() =>
      follow(run).catch((error: unknown) => {
        const message = (error as Error)?.message ?? String(error);
        onEvent({ type: 'warning', message: `run ${run.name}: ${message}` });
        db.finishRun(run.pk, owner, { status: 'failed', failureKind: 'spawn', reason: `clipsweep could not follow its job: ${message}` });
      }),
    );
  }
  for (const run of runs) schedule(run.pk);
  await queue.onIdle();
  signal.removeEventListener('abort', onAbort);
}

/** A translated trainer can fail a run that exited 0 (OpenCLIP's "already exists"), and warn. */
function applyVerdict(outcome: RunOutcome, verdict: Verdict, warn: (message: string) => void): RunOutcome {
  for (const warning of verdict.warnings) warn(warning);
  if (outcome.status !== 'completed' || verdict.failReason === null) return outcome;
  return { status: 'failed', kind: 'exit', exitCode: 0, signal: null, reason: verdict.failReason, stderrTail: '', durationMs: outcome.durationMs };
}

function writeJsonAtomic(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temp, file);
}

function summarise(sweep: string, runs: RunRecord[], interruptedBySignal: boolean): SweepSummaryCounts {
  const count = (status: RunRecord['status']): number => runs.filter((r) => r.status === status).length;
  return {
    sweep,
    total: runs.length,
    completed: count('completed'),
    failed: count('failed'),
    interrupted: count('interrupted'),
    infeasible: count('infeasible'),
    pruned: count('pruned'),
    queued: count('queued'),
    running: count('running'),
    skipped: 0,
    interruptedBySignal,
  };
}
