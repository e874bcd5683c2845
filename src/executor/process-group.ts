// Children run in their own process group (detached), so that stopping a run also stops what it
// started (data-loader workers, a shell's children) and a Ctrl-C on the terminal reaches only the
// orchestrator, which then stops the runs in order.
import { readFileSync } from 'node:fs';

export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is still the child of run `runId` (and not a recycled pid): its environment, read
 * from /proc, names the run. Null where /proc cannot tell (not Linux, or another user).
 */
export function isRunProcess(pid: number, runId: string, runDir: string): boolean | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? false : null;
  }
  const vars = environ.split('\0');
  return vars.includes(`SWEEP_RUN_ID=${runId}`) && vars.includes(`SWEEP_RUN_DIR=${runDir}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM to the group, SIGKILL after `graceMs` if anything in it is still alive. */
export async function stopGroup(pid: number, graceMs: number): Promise<{ forceKilled: boolean }> {
  if (!signalGroup(pid, 'SIGTERM')) return { forceKilled: false };
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return { forceKilled: false };
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
  if (!groupAlive(pid)) return { forceKilled: false };
  signalGroup(pid, 'SIGKILL');
  return { forceKilled: true };
}
