// Write-then-rename helpers: two processes may build the same cache at once, and a reader must
// never see a half-written file or folder.
import { randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A sibling path for temporary output that no other process will pick. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${randomUUID()}`);
}

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempSibling(path);
  await writeFile(tmp, data);
  await rename(tmp, path); // replaces an existing file atomically (POSIX)
}

/**
 * Moves a finished temporary folder into place. Returns false if another process got there first
 * (its folder is kept, ours deleted): both built the same deterministic content.
 */
export async function publishDir(tmp: string, path: string): Promise<boolean> {
  try {
    await rename(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw err;
    await rm(tmp, { recursive: true, force: true });
    return false;
  }
}
