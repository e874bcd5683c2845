import { existsSync } from 'node:fs';
import { NotFoundError, UsageError } from '../../errors.js';
import { startServer } from '../../serve/server.js';
import { resolveDb, resolveRunsDir } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';

export interface ServeCommandOptions {
  db?: string | undefined;
  runsDir?: string | undefined;
  host: string;
  port: number;
  token?: string | undefined;
}

/** Serves until SIGINT or SIGTERM, then closes the server and the database and returns 0. */
export async function serveCommand(
  options: ServeCommandOptions,
  io: Io,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new UsageError(`--port: expected an integer 0..65535 (0: any free port), received ${options.port}`);
  }
  const dbFile = resolveDb(options.db, resolveRunsDir(options.runsDir, io.cwd), io.cwd);
  if (!existsSync(dbFile)) throw new NotFoundError(`no database at ${dbFile}: run a sweep first, or pass --db`);
  const server = await startServer({
    dbFile,
    host: options.host,
    port: options.port,
    ...(options.token !== undefined ? { token: options.token } : {}),
  });
  io.out.write(`sweep serve: ${dbFile} (read-only)\n${server.url}\n`);
  if (server.token !== null && options.token === undefined)
    io.out.write('A token was generated: every request without it is refused.\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      resolve();
    };
    signals.on('SIGINT', stop);
    signals.on('SIGTERM', stop);
  });
  await server.close();
  io.out.write('sweep serve: stopped\n');
  return EXIT.ok;
}
