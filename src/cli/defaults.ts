import { join, resolve } from 'node:path';

/** Where runs and the database live unless told otherwise: under the current directory. */
export function resolveRunsDir(runsDir: string | undefined, cwd: string): string {
  return resolve(cwd, runsDir ?? 'runs');
}

export function resolveDb(db: string | undefined, runsDir: string, cwd: string): string {
  return db === undefined ? join(runsDir, 'sweeps.db') : resolve(cwd, db);
}
