// A run's folder on disk: archived (never deleted) when a run starts over, and its config written
// atomically.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function moveToArchive(runDir: string, id: string): void {
  const archive = join(dirname(runDir), '.archive', `${id}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  try {
    mkdirSync(dirname(archive), { recursive: true });
    renameSync(runDir, archive);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`);
  } catch (error) {
    rmSync(temp, { force: true });
    // A failed write (ENOSPC) says no path: name the file for the message the user reads.
    if (error instanceof Error && !('path' in error)) Object.assign(error, { path: file });
    throw error;
  }
  renameSync(temp, file);
}
