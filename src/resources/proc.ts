// Which run a GPU process belongs to: nvidia-smi names processes by pid; a run is its child's
// process group (the executor starts each run as a group leader) and everything below it.
import { readFileSync } from 'node:fs';

interface Stat {
  ppid: number;
  pgrp: number;
}

/** Fields 4 and 5 of /proc/<pid>/stat; null when the process is gone (or not visible to us). */
export function readStat(pid: number, procRoot = '/proc'): Stat | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) can hold spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  return Number.isFinite(ppid) && Number.isFinite(pgrp) ? { ppid, pgrp } : null;
}

/**
 * The run (by its leader's pid) that `pid` belongs to: same process group, or a descendant of the
 * leader (a worker that started its own group). Null for anyone else's process: foreign.
 */
export function runOfProcess<T>(pid: number, leaders: ReadonlyMap<number, T>, procRoot = '/proc'): T | null {
  const direct = leaders.get(pid);
  if (direct !== undefined) return direct;
  let current = pid;
  for (let depth = 0; depth < 64; depth++) {
    const stat = readStat(current, procRoot);
    if (stat === null) return null;
    const byGroup = leaders.get(stat.pgrp);
    if (byGroup !== undefined) return byGroup;
    const byParent = leaders.get(stat.ppid);
    if (byParent !== undefined) return byParent;
    if (stat.ppid <= 1) return null;
    current = stat.ppid;
  }
  return null;
}
