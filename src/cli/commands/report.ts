import { relative, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { buildReport } from '../../report/index.js';
import { parseXAxis } from '../../report/options.js';
import { resolveDb, resolveRunsDir } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';

export interface ReportOptions {
  sweep?: string | undefined;
  db?: string | undefined;
  runsDir?: string | undefined;
  out?: string | undefined;
  objective?: string | undefined;
  format: string;
  /** step, epoch or samples. */
  x?: string | undefined;
}

const FORMATS = ['html', 'png', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

export async function reportCommand(options: ReportOptions, io: Io): Promise<number> {
  const formats = options.format
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = formats.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || formats.length === 0) {
    throw new UsageError(`--format: expected a comma-separated list of ${FORMATS.join(', ')}, got "${options.format}"`);
  }
  const result = await buildReport({
    dbFile: resolveDb(options.db, resolveRunsDir(options.runsDir, io.cwd), io.cwd),
    ...(options.sweep !== undefined ? { sweep: options.sweep } : {}),
    // Default: reports/<sweep>/ under the current directory (the report names the sweep).
    ...(options.out !== undefined ? { outDir: resolve(io.cwd, options.out) } : {}),
    ...(options.objective !== undefined ? { objective: options.objective } : {}),
    formats: formats as Format[],
    ...(options.x !== undefined ? { xAxis: parseXAxis(options.x) } : {}),
  });
  for (const warning of result.warnings) io.err.write(`warning: ${warning}\n`);
  io.out.write(
    `report for sweep ${result.sweep}: ${result.files.length} file(s) in ${relative(io.cwd, result.outDir) || '.'}\n`,
  );
  if (result.indexHtml !== null) io.out.write(`${result.indexHtml}\n`);
  return EXIT.ok;
}
