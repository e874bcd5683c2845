// Runs the plan over the executor's slots: each attempt claims its run, builds its folder and job,
// is followed by the recorder while it runs, and is settled (completed, retried, failed...) after.
import { existsSync, mkdirSync } from 'node:fs';
import PQueue from 'p-queue';
import type { RunOutcome } from '../executor/types.js';
import { createTranslator, type Verdict } from '../metrics/adapters/index.js';
import type { Recorder } from '../metrics/recorder.js';
import { buildJob, runPaths, type RunPaths } from '../plan/job.js';
import type { Slot } from '../resources/gpus.js';
import type { RunRecord } from '../store/types.js';
import type { RunRef } from './events.js';
import type { PruneLoop } from './pruning.js';
import { moveToArchive, writeJsonAtomic } from './run-folder.js';
import type { RunSweepInput } from './run-sweep.js';

export interface QueueContext {
  input: RunSweepInput;
  slots: Slot[];
  owner: string;
  recorder: Recorder;
  /** Names of the runs in flight, for events (the queue adds and removes its own). */
  refs: Map<number, RunRef>;
  pruner: PruneLoop | null;
  /**
   * Hears an error that stops the whole sweep (a full disk) rather than one run; true when it
   * took it (the sweep is then stopping, and nothing more is written for the run).
   */
  onFatal?: (error: unknown) => boolean;
  /**
   * Whether this process may still start a run: false once it was paused for so long that another
   * sweep process may have taken its runs over (liveness.ts).
   */
  mayStart?: () => boolean;
}

/**
 * Runs `runPks` in order (retries join the back of that list), after following `attached` (runs
 * whose batch job outlived the orchestrator that submitted it). Resolves once all are settled.
 */
export async function runQueue(runPks: number[], attached: readonly RunRecord[], context: QueueContext): Promise<void> {
  const { input, slots, owner, recorder, refs, pruner } = context;
  const { spec, store: db, signal, onEvent } = input;
  const concurrency = Math.max(1, slots.length);
  const queue = new PQueue({ concurrency });
  const busy = new Set<string>();
  const attemptsHere = new Map<number, number>();
  // p-queue is fed from `runPks` a few tasks at a time: a task (closure, promise, options) per run
  // held for the whole sweep was megabytes for a large sweep.
  const waiting = runPks;
  let next = 0;
  const onAbort = (): void => {
    queue.clear();
    next = waiting.length;
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const feed = (): void => {
    // A task waiting per slot is enough for a freed slot never to wait for the next one.
    while (next < waiting.length && queue.size < concurrency) launch(waiting[next++]!);
  };
  const schedule = (runPk: number): void => {
    waiting.push(runPk);
    feed();
  };
  const nameOf = (runPk: number): string => {
    try {
      return db.getRun(runPk).name;
    } catch {
      return String(runPk);
    }
  };
  const launch = (runPk: number): void => {
    void queue.add(async () => {
      try {
        await attempt(runPk);
      } catch (error) {
        if (context.onFatal?.(error)) return;
        // The executor could not work for this run: the run fails with the reason, the sweep goes on.
        const message = (error as Error)?.message ?? String(error);
        onEvent({ type: 'warning', message: `run ${nameOf(runPk)}: ${message}` });
        db.finishRun(runPk, owner, { status: 'failed', failureKind: 'spawn', reason: `clipsweep could not run it: ${message}` });
      } finally {
        feed();
      }
    });
  };

  /**
   * Everything around one execution, new or re-attached: the output translator, the recorder,
   * progress, the run's own abort signal for early termination, and the translator's verdict.
   */
  const track = async <T extends RunOutcome | 'unknown'>(
    run: RunRecord,
    ref: RunRef,
    slot: Slot,
    paths: RunPaths,
    argv: readonly string[],
    resultsFile: string | null,
    execute: (runSignal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    refs.set(run.pk, ref);
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

  /** Forgets a settled run's name, unless its next attempt has already taken the slot over. */
  const release = (runPk: number, ref: RunRef): void => {
    if (refs.get(runPk) === ref) refs.delete(runPk);
  };

  const attempt = async (runPk: number): Promise<void> => {
    if (signal.aborted) return;
    const record = db.getRun(runPk);
    if (record.status !== 'queued') return;
    const eligible = slots.filter((s) => s.gpu === null || !record.excludedGpus.includes(s.gpu));
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
    const ref: RunRef = { id: record.id, name: record.name };
    try {
      const ran = await runOnSlot(runPk, slot, ref);
      if (ran !== null) settle(runPk, ref, slot, ran.attemptNo, ran.outcome);
    } finally {
      release(runPk, ref);
    }
  };

  /** Claims the run for `slot` and runs one attempt there; null when another sweep process took it. */
  const runOnSlot = async (runPk: number, slot: Slot, ref: RunRef): Promise<{ attemptNo: number; outcome: RunOutcome } | null> => {
    busy.add(slot.id);
    try {
      if (context.mayStart?.() === false || !db.claimRun(runPk, owner, slot.id, slot.gpu)) return null;
      const claimed = db.getRun(runPk);
      const attemptNo = claimed.attempt;
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
      const outcome = await track(claimed, ref, slot, paths, job.argv, resultsFile, (runSignal) =>
        input.executor.run(job, slot, { signal: runSignal, onStart: (pid) => db.setPid(runPk, owner, pid), onSubmit: (jobId) => db.setJobId(runPk, owner, jobId) }),
      );
      return { attemptNo, outcome };
    } finally {
      busy.delete(slot.id);
    }
  };

  const settle = (runPk: number, ref: RunRef, slot: Slot, attemptNo: number, outcome: RunOutcome): void => {
    // A run another sweep process took over (this one was paused past its heartbeat) is that
    // process's to report: its child was stopped by the takeover, not by a failure.
    const current = db.getRun(runPk);
    if (current.owner !== owner || current.status !== 'running') {
      onEvent({ type: 'warning', message: `${ref.name}: taken over by another sweep process (${current.owner ?? 'none'}); not settled here` });
      attemptsHere.delete(runPk);
      return;
    }
    const end = (status: 'completed' | 'failed' | 'interrupted' | 'infeasible' | 'pruned', willRetry: boolean): void => {
      const reason = outcome.status === 'completed' ? null : outcome.reason;
      const stderrTail = outcome.status === 'completed' ? undefined : outcome.stderrTail;
      if (!willRetry) attemptsHere.delete(runPk);
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
    const ref: RunRef = { id: run.id, name: run.name };
    busy.add(slot.id);
    attemptsHere.set(run.pk, 1);
    let outcome: RunOutcome | 'unknown';
    try {
      const paths = runPaths(run.runDir);
      const { job, resultsFile } = buildJob(spec, run, paths, run.attempt, input.jobContext);
      outcome = await track(run, ref, slot, paths, job.argv, resultsFile, (runSignal) =>
        input.executor.attach!({ runId: run.id, runDir: run.runDir, pid: run.pid, jobId: run.jobId! }, slot, { signal: runSignal, onSubmit: (jobId) => db.setJobId(run.pk, owner, jobId) }),
      );
    } finally {
      busy.delete(slot.id);
    }
    try {
      if (outcome === 'unknown') {
        // The scheduler has no record of the job: an orphan after all, so it runs again.
        const detail = `${input.executor.name} job ${run.jobId} is unknown to the scheduler`;
        if (db.markOrphaned(run.pk, owner, detail) && !signal.aborted && db.requeueRun(run.pk, ['interrupted'], `resumed after interrupted: ${detail}`)) schedule(run.pk);
        return;
      }
      settle(run.pk, ref, slot, run.attempt, outcome);
    } finally {
      release(run.pk, ref);
    }
  };

  for (const run of attached) {
    void queue.add(async () => {
      try {
        await follow(run);
      } catch (error) {
        if (context.onFatal?.(error)) return;
        const message = (error as Error)?.message ?? String(error);
        onEvent({ type: 'warning', message: `run ${run.name}: ${message}` });
        db.finishRun(run.pk, owner, { status: 'failed', failureKind: 'spawn', reason: `clipsweep could not follow its job: ${message}` });
      } finally {
        feed();
      }
    });
  }
  feed();
  await queue.onIdle();
  signal.removeEventListener('abort', onAbort);
}

/** A translated trainer can fail a run that exited 0 (OpenCLIP's "already exists"), and warn. */
function applyVerdict(outcome: RunOutcome, verdict: Verdict, warn: (message: string) => void): RunOutcome {
  for (const warning of verdict.warnings) warn(warning);
  if (outcome.status !== 'completed' || verdict.failReason === null) return outcome;
  return { status: 'failed', kind: 'exit', exitCode: 0, signal: null, reason: verdict.failReason, stderrTail: '', durationMs: outcome.durationMs };
}
