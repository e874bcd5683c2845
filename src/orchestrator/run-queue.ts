// Runs the plan over the executor's slots: each attempt claims its run, builds its folder and job,
// is followed by the recorder while it runs, and is settled (completed, retried, failed...) after.
import { existsSync, mkdirSync } from 'node:fs';
import type { RunOutcome } from '../executor/types.js';
import { createTranslator, type Verdict } from '../metrics/adapters/index.js';
import type { Recorder } from '../metrics/recorder.js';
import { decideAttempt } from '../plan/attempt.js';
import { buildJob, runPaths, type RunPaths } from '../plan/job.js';
import type { Slot } from '../resources/gpus.js';
import type { RunRecord } from '../store/types.js';
import type { RunRef } from './events.js';
import type { PruneLoop } from './pruning.js';
import { moveToArchive, writeJsonAtomic } from './run-folder.js';
import type { RunSweepInput } from './input.js';
import { SlotAllocator, firstFreeSlot, usable, type PlacementPolicy, type SlotRequest } from './slot-allocator.js';

export interface QueueContext {
  input: RunSweepInput;
  slots: Slot[];
  owner: string;
  recorder: Recorder;
  /** Names of the runs in flight, for events (the queue adds and removes its own). */
  refs: Map<number, RunRef>;
  pruner: PruneLoop | null;
  /** Which free slot a run gets; default: the first one it may use (fixed runs_per_gpu). */
  placement?: PlacementPolicy;
  /** Told when an attempt's child starts and when the attempt is settled (GPU measurement). */
  observer?: AttemptObserver;
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
  /** Given the allocator's wake(), to call when free resources change outside the queue (GPU memory). */
  onChange?: (wake: () => void) => void;
  /** A search's next run (registered, queued), asked for when the list is done and a slot is free; null: no more. */
  propose?: () => number | null;
}

export interface AttemptObserver {
  started(runPk: number, slot: Slot, pid: number): void;
  ended(runPk: number, slot: Slot, outcome: RunOutcome): void;
}

/**
 * Runs `runPks` in order (retries join the back of that list), after following `attached` (runs
 * whose batch job outlived the orchestrator that submitted it). Resolves once all are settled.
 */
export async function runQueue(runPks: number[], attached: readonly RunRecord[], context: QueueContext): Promise<void> {
  await new RunQueue(runPks, context).run(attached);
}

/**
 * The queue's state: the run keys in order and how far they have been fed, the attempts made per
 * run by this invocation, and the slots (the allocator). Runs are fed lazily: at most one waiting
 * attempt per slot is held (a closure and promise per run of a large sweep was megabytes).
 */
export class RunQueue {
  private readonly context: QueueContext;
  private readonly allocator: SlotAllocator;
  private readonly order: number[];
  private next = 0;
  /** Attempts started (launched or following) and not yet settled. */
  private active = 0;
  /** Of those, the ones still waiting for a slot. */
  private waiting = 0;
  private readonly attemptsHere = new Map<number, number>();
  private done: () => void = () => {};

  constructor(runPks: number[], context: QueueContext) {
    this.order = runPks;
    this.context = context;
    this.allocator = new SlotAllocator(context.slots, context.placement ?? firstFreeSlot);
    context.onChange?.(() => this.allocator.wake());
  }

  /** The slots and what holds them (sweep status, the GPU view). */
  get slots(): SlotAllocator {
    return this.allocator;
  }

  async run(attached: readonly RunRecord[]): Promise<void> {
    const { signal } = this.context.input;
    const onAbort = (): void => {
      this.next = this.order.length;
      this.allocator.close();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const finished = new Promise<void>((resolve) => {
      this.done = resolve;
    });
    // Attached runs are followed first: their jobs already run, a slot is free for each.
    for (const run of attached)
      this.start(() => this.follow(run), run.pk, run.name, 'clipsweep could not follow its job');
    this.feed();
    await finished;
    signal.removeEventListener('abort', onAbort);
    // Nothing waits now; closing also drops the allocator's keep-alive handle whatever happened.
    this.allocator.close();
  }

  /** Puts a run (a retry) at the back of the order. */
  private schedule(runPk: number): void {
    this.order.push(runPk);
    this.feed();
  }

  private feed(): void {
    // One waiting attempt per slot is enough for a freed slot never to wait for the next one; more
    // only while a slot is free that none of the waiting runs may use (their GPUs are excluded).
    const limit = (): number => (this.allocator.starved ? 4 : 1) * Math.max(1, this.allocator.size);
    while (this.next < this.order.length && this.waiting < limit()) {
      const runPk = this.order[this.next++]!;
      this.start(() => this.attempt(runPk), runPk, null, 'clipsweep could not run it');
    }
    // Proposals depend on results: one is asked for only once the list is done and a slot is free.
    const { propose, input } = this.context;
    while (
      propose &&
      !input.signal.aborted &&
      this.next >= this.order.length &&
      this.active < Math.max(1, this.allocator.size)
    ) {
      const runPk = propose();
      if (runPk === null) break;
      this.start(() => this.attempt(runPk), runPk, null, 'clipsweep could not run it');
    }
    if (this.active === 0 && this.next >= this.order.length) this.done();
  }

  private start(body: () => Promise<void>, runPk: number, name: string | null, what: string): void {
    const { store: db, onEvent } = this.context.input;
    this.active++;
    void body()
      .catch((error: unknown) => {
        if (this.context.onFatal?.(error)) return;
        // The executor could not work for this run: the run fails with the reason, the sweep goes on.
        const message = (error as Error)?.message ?? String(error);
        onEvent({ type: 'warning', message: `run ${name ?? this.nameOf(runPk)}: ${message}` });
        db.finishRun(runPk, this.context.owner, {
          status: 'failed',
          failureKind: 'spawn',
          reason: `${what}: ${message}`,
        });
      })
      .finally(() => {
        this.active--;
        this.feed();
      });
  }

  private nameOf(runPk: number): string {
    try {
      return this.context.input.store.getRun(runPk).name;
    } catch {
      return String(runPk);
    }
  }

  /** Waits for a slot the run may use, in the allocator's order; null when the sweep stops. */
  private async acquire(request: SlotRequest): Promise<Slot | null> {
    this.waiting++;
    try {
      return await this.allocator.acquire(request);
    } finally {
      this.waiting--;
    }
  }

  private async attempt(runPk: number): Promise<void> {
    const { store: db, signal } = this.context.input;
    const { slots, owner } = this.context;
    if (signal.aborted) return;
    const record = db.getRun(runPk);
    if (record.status !== 'queued') return;
    const request: SlotRequest = { runPk, params: record.params, excludedGpus: record.excludedGpus };
    if (!slots.some((s) => usable(s, request))) {
      if (db.claimRun(runPk, owner, 'none', null)) {
        db.finishRun(runPk, owner, {
          status: 'infeasible',
          failureKind: 'oom',
          reason: `out of memory on every GPU it may use (excluded: ${record.excludedGpus.join(', ')})`,
        });
      }
      return;
    }
    const slot = await this.acquire(request);
    if (slot === null) return;
    // This run holds a slot now: the next one may start waiting for its own.
    this.feed();
    const ref: RunRef = { id: record.id, name: record.name };
    try {
      const ran = await this.runOnSlot(runPk, slot, ref);
      if (ran !== null) this.settle(runPk, ref, slot, ran.attemptNo, ran.outcome);
    } finally {
      this.release(runPk, ref);
    }
  }

  /** Forgets a settled run's name, unless its next attempt has already taken the slot over. */
  private release(runPk: number, ref: RunRef): void {
    if (this.context.refs.get(runPk) === ref) this.context.refs.delete(runPk);
  }

  /** Claims the run for `slot` and runs one attempt there; null when another sweep process took it. */
  private async runOnSlot(
    runPk: number,
    slot: Slot,
    ref: RunRef,
  ): Promise<{ attemptNo: number; outcome: RunOutcome } | null> {
    const { input, owner, observer } = this.context;
    const { spec, store: db } = input;
    try {
      if (this.context.mayStart?.() === false || !db.claimRun(runPk, owner, slot.id, slot.gpu)) return null;
      const claimed = db.getRun(runPk);
      const attemptNo = claimed.attempt;
      this.attemptsHere.set(runPk, (this.attemptsHere.get(runPk) ?? 0) + 1);
      const paths = runPaths(claimed.runDir);
      // A first attempt in this database must not read a folder left by another database (or a
      // deleted one): that folder is archived, not reused and not deleted.
      if (attemptNo === 1 && claimed.metricsOffset === 0 && existsSync(claimed.runDir))
        moveToArchive(claimed.runDir, claimed.id);
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
        ...(slot.gpus !== undefined ? { gpus: slot.gpus } : {}),
        started_at: new Date().toISOString(),
      });
      const { job, resultsFile } = buildJob(spec, claimed, paths, attemptNo, input.jobContext);
      const outcome = await this.track(claimed, ref, slot, paths, job.argv, resultsFile, (runSignal) =>
        input.executor.run(job, slot, {
          signal: runSignal,
          onStart: (pid) => {
            db.setPid(runPk, owner, pid);
            observer?.started(runPk, slot, pid);
          },
          onSubmit: (jobId) => db.setJobId(runPk, owner, jobId),
        }),
      );
      observer?.ended(runPk, slot, outcome);
      return { attemptNo, outcome };
    } finally {
      this.allocator.release(slot);
    }
  }

  /**
   * Everything around one execution, new or re-attached: the output translator, the recorder,
   * progress, the run's own abort signal for early termination, and the translator's verdict.
   */
  private async track<T extends RunOutcome | 'unknown'>(
    run: RunRecord,
    ref: RunRef,
    slot: Slot,
    paths: RunPaths,
    argv: readonly string[],
    resultsFile: string | null,
    execute: (runSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { input, recorder, refs, pruner } = this.context;
    const { spec, signal, onEvent } = input;
    refs.set(run.pk, ref);
    const translator = createTranslator({
      spec,
      params: run.params,
      argv,
      files: {
        stdout: paths.stdoutFile,
        stderr: paths.stderrFile,
        metrics: paths.metricsFile,
        problems: paths.problemsFile,
      },
      resultsFile,
    });
    recorder.watch({
      runPk: run.pk,
      attempt: run.attempt,
      metricsFile: paths.metricsFile,
      problemsFile: paths.problemsFile,
      offset: run.metricsOffset,
      linesBefore: run.metricLines + run.badLines,
      totalSteps: run.totalSteps,
      translator,
    });
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
    return applyVerdict(outcome as RunOutcome, translator.verdict(), (message) =>
      onEvent({ type: 'warning', message: `${ref.name}: ${message}` }),
    ) as T;
  }

  /** Applies the attempt policy (src/plan/attempt.ts): store writes, the run-end event, a retry. */
  private settle(runPk: number, ref: RunRef, slot: Slot, attemptNo: number, outcome: RunOutcome): void {
    const { input, owner, slots, pruner } = this.context;
    const { store: db, signal, onEvent, spec } = input;
    // A run another sweep process took over (this one was paused past its heartbeat) is that
    // process's to report: its child was stopped by the takeover, not by a failure.
    const current = db.getRun(runPk);
    if (current.owner !== owner || current.status !== 'running') {
      onEvent({
        type: 'warning',
        message: `${ref.name}: taken over by another sweep process (${current.owner ?? 'none'}); not settled here`,
      });
      this.attemptsHere.delete(runPk);
      return;
    }
    const decision = decideAttempt({
      outcome,
      prune: pruner?.decisions.get(runPk) ?? null,
      aborted: signal.aborted,
      slot,
      attemptNo,
      attemptsHere: this.attemptsHere.get(runPk) ?? 1,
      retries: spec.retries,
      excludedGpus: db.getRun(runPk).excludedGpus,
      slots,
      sharedGpu: this.context.placement?.wasShared?.(runPk) ?? false,
    });
    if (decision.excludeGpu !== null) db.excludeGpu(runPk, decision.excludeGpu);
    const end = (status: RunRecord['status'], willRetry: boolean): void => {
      const reason = outcome.status === 'completed' ? null : outcome.reason;
      const stderrTail = outcome.status === 'completed' ? undefined : outcome.stderrTail;
      if (!willRetry) this.attemptsHere.delete(runPk);
      onEvent({
        type: 'run-end',
        run: ref,
        status,
        attempt: attemptNo,
        reason,
        willRetry,
        durationMs: outcome.durationMs,
        ...(stderrTail ? { stderrTail } : {}),
      });
    };
    if (decision.retry !== null && db.requeueRun(runPk, ['running'], decision.retry.detail, owner)) {
      end('failed', true);
      this.schedule(runPk);
      return;
    }
    const { status, ...rest } = decision.final;
    db.finishRun(runPk, owner, { status, ...rest });
    end(status, false);
  }

  /**
   * A run whose batch job outlived the orchestrator that submitted it: followed to its end on a
   * slot of its own, then settled like any other attempt.
   */
  private async follow(run: RunRecord): Promise<void> {
    const { input, owner } = this.context;
    const { store: db, signal, spec } = input;
    // Attached runs are queued first: a slot is free for each.
    const slot = await this.acquire({ runPk: run.pk, params: run.params, excludedGpus: [] });
    if (slot === null) return;
    const ref: RunRef = { id: run.id, name: run.name };
    this.attemptsHere.set(run.pk, 1);
    let outcome: RunOutcome | 'unknown';
    try {
      const paths = runPaths(run.runDir);
      const { job, resultsFile } = buildJob(spec, run, paths, run.attempt, input.jobContext);
      outcome = await this.track(run, ref, slot, paths, job.argv, resultsFile, (runSignal) =>
        input.executor.attach!({ runId: run.id, runDir: run.runDir, pid: run.pid, jobId: run.jobId! }, slot, {
          signal: runSignal,
          onSubmit: (jobId) => db.setJobId(run.pk, owner, jobId),
        }),
      );
    } finally {
      this.allocator.release(slot);
    }
    try {
      if (outcome === 'unknown') {
        // The scheduler has no record of the job: an orphan after all, so it runs again.
        const detail = `${input.executor.name} job ${run.jobId} is unknown to the scheduler`;
        if (
          db.markOrphaned(run.pk, owner, detail) &&
          !signal.aborted &&
          db.requeueRun(run.pk, ['interrupted'], `resumed after interrupted: ${detail}`)
        )
          this.schedule(run.pk);
        return;
      }
      this.settle(run.pk, ref, slot, run.attempt, outcome);
    } finally {
      this.release(run.pk, ref);
    }
  }
}

/** A translated trainer can fail a run that exited 0 (OpenCLIP's "already exists"), and warn. */
function applyVerdict(outcome: RunOutcome, verdict: Verdict, warn: (message: string) => void): RunOutcome {
  for (const warning of verdict.warnings) warn(warning);
  if (outcome.status !== 'completed' || verdict.failReason === null) return outcome;
  return {
    status: 'failed',
    kind: 'exit',
    exitCode: 0,
    signal: null,
    reason: verdict.failReason,
    stderrTail: '',
    durationMs: outcome.durationMs,
  };
}
