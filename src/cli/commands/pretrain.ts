import { resolve } from 'node:path';
import { runPretrain } from '../../trainer/pretrain.js';
import { resolveRunsDir } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';

export interface PretrainCommandOptions {
  runsDir?: string | undefined;
  force: boolean;
  exportDir?: string | undefined;
  checkpointDir?: string | undefined;
}

/** Builds (or finds cached) the embedded base model that `init: base` fine-tunes. */
export async function pretrainCommand(options: PretrainCommandOptions, io: Io): Promise<number> {
  const result = await runPretrain({
    runsDir: resolveRunsDir(options.runsDir, io.cwd),
    force: options.force,
    ...(options.exportDir !== undefined ? { exportDir: resolve(io.cwd, options.exportDir) } : {}),
    ...(options.checkpointDir !== undefined ? { checkpointDir: resolve(io.cwd, options.checkpointDir) } : {}),
    log: (line) => io.err.write(`${line}\n`),
  });
  io.out.write(`base model: ${result.checkpointPath}\n`);
  return EXIT.ok;
}
