// Runs each job as a child process on this machine: argv array (never a shell), its own process
// group, stdout/stderr appended straight to the run folder's logs (file descriptors handed to the
// child, so its output survives the orchestrator dying).
import { closeSync, fstatSync, openSync } from 'node:fs';
import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { execa, type Options } from 'execa';
import type { Resources } from '../sweep-file/schema.js';
import { buildSlots, detectGpus, slotGpus, type Gpu, type Slot } from '../resources/gpus.js';
import { classifyExit } from './classify.js';
import { readStderrTail } from './stderr-tail.js';
import { groupAlive, isRunGroup, killGroup, stopGroup } from './process-group.js';
import type { Executor, Job, OrphanedRun, RunHooks, RunOutcome } from './types.js';
import { PortPool } from './ports.js';
import { queryTopology } from '../resources/nvidia-smi.js';

export interface LocalExecutorOptions {
  resources: Resources;
  specFile: string;
  /** Injected for tests; defaults to asking nvidia-smi. */
  detectGpus?: () => Promise<Gpu[]>;
  topology?: () => Promise<Map<number, Map<number, string>> | null>;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly options: LocalExecutorOptions;
  private readonly ports = new PortPool();

  constructor(options: LocalExecutorOptions) {
    this.options = options;
  }

  async slots(): Promise<Slot[]> {
    const { resources } = this.options;
    const needGpus = resources.gpus !== 'none';
    const gpus = needGpus ? await (this.options.detectGpus ?? (() => detectGpus()))() : [];
    // Multi-GPU runs get GPUs close together when the machine says which are.
    const topology =
      gpus.length > 1 && (resources.gpus_per_run ?? 1) > 1
        ? await (this.options.topology ?? (() => queryTopology()))()
        : null;
    return buildSlots(resources, gpus, this.options.specFile, topology);
  }

  async run(job: Job, slot: Slot, hooks: RunHooks): Promise<RunOutcome> {
    const started = Date.now();
    const stdoutFd = openSync(job.stdoutFile, 'a');
    const stderrFd = openSync(job.stderrFile, 'a');
    const stderrStart = fstatSync(stderrFd).size;
    let stoppedFor: 'timeout' | 'interrupt' | null = null;
    let forceKilled = false;
    let stopping: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    // A GPU run gets a free port of its own for torch.distributed (torchrun inside two runs must
    // not collide), unless the trainer's env names one.
    const port = slot.gpu !== null && job.env.MASTER_PORT === undefined ? await this.ports.take() : null;
    try {
      const execOptions: Options = {
        ...(job.cwd !== undefined ? { cwd: job.cwd } : {}),
        env: {
          ...job.env,
          CUDA_VISIBLE_DEVICES: slotGpus(slot).join(','),
          ...(port !== null ? { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) } : {}),
        },
        extendEnv: true,
        stdin: 'ignore',
        // execa passes a file descriptor straight to the child at run time; its types only list
        // small literal descriptors, hence the casts.
        stdout: stdoutFd as 1,
        stderr: stderrFd as 2,
        detached: true,
        reject: false,
        // The orchestrator stops children itself (group-wide, with a grace period).
        cleanup: false,
      };
      const child = execa(job.argv[0]!, job.argv.slice(1), execOptions);
      const pid = child.pid;
      const stop = (why: 'timeout' | 'interrupt'): void => {
        if (stoppedFor !== null || pid === undefined) return;
        stoppedFor = why;
        stopping = stopGroup(pid, job.killGraceMs).then((r) => {
          forceKilled = r.forceKilled;
        });
      };
      if (pid !== undefined) {
        hooks.onStart?.(pid);
        onAbort = () => stop('interrupt');
        if (hooks.signal.aborted) onAbort();
        else hooks.signal.addEventListener('abort', onAbort, { once: true });
        if (job.timeoutMs !== undefined) timer = setTimeout(() => stop('timeout'), job.timeoutMs);
      }
      const result = await child;
      await stopping;
      // Whatever the run left behind in its group goes with it, before the run counts as ended
      // (its metrics file is then read to the end with nothing writing to it).
      if (pid !== undefined) await killGroup(pid);
      const spawnError =
        pid === undefined || (result.exitCode === undefined && result.signal === undefined && result.failed)
          ? result.originalMessage || result.shortMessage || 'spawn failed'
          : null;
      const outcome = classifyExit({
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        spawnError,
        stderrTail: readStderrTail(job.stderrFile, stderrStart),
        durationMs: Date.now() - started,
        stoppedFor,
        forceKilled,
        ...(job.timeoutMs !== undefined ? { timeoutMs: job.timeoutMs } : {}),
      });
      // The child is gone: nothing may signal its pid any more (it can be reused).
      if (timer) clearTimeout(timer);
      if (onAbort) hooks.signal.removeEventListener('abort', onAbort);
      // Return only once the event loop turns. The exit arrives inside libuv's SIGCHLD handler,
      // which keeps reading signals while any arrive: starting the next run from there (short runs
      // over several slots) kept the loop in that handler, so no exited child's handle was closed
      // (each pinned its ChildProcess and execa's state, ~9 KB) and no timer fired until the
      // sweep paused.
      await nextLoopTurn();
      return outcome;
    } finally {
      if (timer) clearTimeout(timer);
      if (onAbort) hooks.signal.removeEventListener('abort', onAbort);
      closeSync(stdoutFd);
      closeSync(stderrFd);
      if (port !== null) this.ports.give(port);
    }
  }

  async stopOrphan(run: OrphanedRun, graceMs: number): Promise<'stopped' | 'not-running'> {
    if (run.pid === null || !groupAlive(run.pid)) return 'not-running';
    // The run's group is ours to stop when anything in it names this run (pids get recycled), even
    // when its leader has exited: a wrapper that started the trainer in the background and returned
    // leaves the trainer writing on in the group.
    if (isRunGroup(run.pid, run.runId, run.runDir) === false) return 'not-running';
    await stopGroup(run.pid, graceMs);
    return 'stopped';
  }
}
