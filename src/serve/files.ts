// Files of a run folder the database knows, and nothing else: the requested path is resolved and
// its real path (symlinks followed) must lie inside the real path of the run folder.
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

export type FileResult =
  { ok: true; text: string; size: number; truncated: boolean } | { ok: false; status: 403 | 404; message: string };

/** The real path of `rel` inside `runDir`, or why not. */
export function insideRunDir(
  runDir: string,
  rel: string,
): { ok: true; path: string } | { ok: false; status: 403 | 404; message: string } {
  if (rel.includes('\0')) return { ok: false, status: 403, message: 'refused: bad path' };
  let root: string;
  let real: string;
  try {
    root = realpathSync(runDir);
  } catch {
    return { ok: false, status: 404, message: 'the run folder does not exist (any more)' };
  }
  try {
    real = realpathSync(resolve(root, rel));
  } catch {
    // Refuse before saying "missing": a path outside must not be probed for existence.
    const lexical = resolve(root, rel);
    if (lexical !== root && !lexical.startsWith(root + sep))
      return { ok: false, status: 403, message: 'refused: the path is outside the run folder' };
    return { ok: false, status: 404, message: 'no such file in the run folder' };
  }
  if (real !== root && !real.startsWith(root + sep))
    return { ok: false, status: 403, message: 'refused: the path is outside the run folder' };
  return { ok: true, path: real };
}

/** The last `maxBytes` of a text file inside the run folder. */
export function readTail(runDir: string, rel: string, maxBytes: number): FileResult {
  const where = insideRunDir(runDir, rel);
  if (!where.ok) return where;
  const stat = statSync(where.path);
  if (!stat.isFile()) return { ok: false, status: 404, message: 'not a file' };
  const length = Math.min(stat.size, maxBytes);
  const buffer = Buffer.alloc(length);
  const fd = openSync(where.path, 'r');
  try {
    readSync(fd, buffer, 0, length, stat.size - length);
  } finally {
    closeSync(fd);
  }
  return { ok: true, text: buffer.toString('utf8'), size: stat.size, truncated: stat.size > length };
}

export interface FileEntry {
  path: string;
  size: number;
  mtime: number;
}

/** Files under `runDir/sub` (two levels deep at most), for the checkpoints list. */
export function listFiles(runDir: string, sub: string, depth = 2): FileEntry[] {
  const where = insideRunDir(runDir, sub);
  if (!where.ok) return [];
  const root = where.path;
  const base = realpathSync(runDir);
  const out: FileEntry[] = [];
  const walk = (dir: string, level: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory() && level < depth) walk(full, level + 1);
      else if (entry.isFile()) {
        const stat = statSync(full);
        out.push({ path: relative(base, full), size: stat.size, mtime: stat.mtimeMs / 1000 });
      }
    }
  };
  walk(root, 1);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
