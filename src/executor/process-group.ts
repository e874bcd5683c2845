// Children run in their own process group (detached), so that stopping a run also stops what it
// started (data-loader workers, a shell's children) and a Ctrl-C on the terminal reaches only the
// orchestrator, which then stops the runs in order.
//
// The group outlives its leader: a wrapper script that starts the trainer in the background and
// exits leaves the trainer in the group. Every decision here is therefore about the group's living
// members, never only about the pid that started it.
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * The pids of group `pgid`'s members that are not zombies, from /proc; null where /proc cannot be
 * listed (not Linux). A zombie has stopped running: counting it would keep a group "alive" for as
 * long as nobody reaps it (an orphan's new parent in a container often never does).
 */
export function groupMembers(pgid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const members: number[] = [];
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it exited while we listed
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/** Whether anything in group `pid` still runs (its leader may be long gone). */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const members = groupMembers(pid);
  return members === null || members.length > 0;
}

/**
 * Whether process `pid` belongs to run `runId` (and is not a recycled pid): its environment, read
 * from /proc, names the run. Null where /proc cannot tell (another user).
 */
function namesRun(pid: number, runId: string, runDir: string): boolean | null {
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

/**
 * Whether process group `pgid` still holds something of run `runId`: any living member whose
 * environment names the run (a trainer inherits it from the wrapper that started it, whether or
 * not that wrapper still runs). Null where /proc cannot tell; false when no member names the run.
 */
export function isRunGroup(pgid: number, runId: string, runDir: string): boolean | null {
  const members = groupMembers(pgid);
  if (members === null) return namesRun(pgid, runId, runDir);
  let unknown = false;
  for (const member of members) {
    const match = namesRun(member, runId, runDir);
    if (match === true) return true;
    if (match === null) unknown = true;
  }
  return unknown ? null : false;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to wait, after SIGKILL, for the kernel to take the group's members down. */
const KILL_SETTLE_MS = 5_000;

/**
 * SIGTERM to the group, SIGKILL after `graceMs` if anything in it is still alive; resolves once
 * nothing in the group runs (or KILL_SETTLE_MS after the SIGKILL, for a member stuck in the kernel).
 */
export async function stopGroup(pid: number, graceMs: number): Promise<{ forceKilled: boolean }> {
  if (!signalGroup(pid, 'SIGTERM')) return { forceKilled: false };
  if (await waitGroupGone(pid, graceMs)) return { forceKilled: false };
  signalGroup(pid, 'SIGKILL');
  await waitGroupGone(pid, KILL_SETTLE_MS);
  return { forceKilled: true };
}

/** SIGKILL to whatever is left in the group; resolves once nothing in it runs any more. */
export async function killGroup(pid: number): Promise<void> {
  if (!groupAlive(pid)) return;
  signalGroup(pid, 'SIGKILL');
  await waitGroupGone(pid, KILL_SETTLE_MS);
}

async function waitGroupGone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return true;
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
  return !groupAlive(pid);
}
