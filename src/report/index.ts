// `sweep report`: store -> report model (pure, diagnostics computed once from full data) ->
// renderers (png, html, json, csv). The CLI resolves its flags into BuildReportOptions.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import { openReader } from '../store/index.js';
import type { ReportModel } from './assemble.js';
import { renderPngs } from './charts/png.js';
import { renderHtml } from './html/render.js';
import { loadModel } from './load.js';
import { loadGpuReport, type GpuReport } from './gpu.js';
import { resolveFormats, resolveThresholds, type Format, type Thresholds, type XAxis } from './options.js';
import { rankingCsv, reportJson } from './tables.js';

export { DEFAULT_THRESHOLDS, type Thresholds } from './options.js';
export type { ReportModel } from './assemble.js';

export interface BuildReportOptions {
  dbFile: string;
  /** Default: the sweep most recently registered or updated. */
  sweep?: string;
  /** Default: reports/<sweep>/ under the current directory. */
  outDir?: string;
  /** A metric key, optionally prefixed min: or max:. Default: val/loss, else recall, else train loss. */
  objective?: string;
  /** Default: all four. */
  formats?: Format[];
  thresholds?: Partial<Thresholds>;
  /** The charts' x axis; default epochs when the sweep varies batch_size, else steps. */
  xAxis?: XAxis;
}

export interface BuildReportResult {
  outDir: string;
  indexHtml: string | null;
  files: string[];
  sweep: string;
  warnings: string[];
}

export async function buildReport(options: BuildReportOptions): Promise<BuildReportResult> {
  const formats = resolveFormats(options.formats);
  const thresholds = resolveThresholds(options.thresholds);
  // Read-only: a report never creates, initialises or migrates the database.
  const store = openReader(options.dbFile);
  let model: ReportModel;
  let gpu: GpuReport | null;
  try {
    const sweep = options.sweep !== undefined ? store.getSweep(options.sweep) : store.latestSweep();
    if (!sweep) throw new NotFoundError(`no sweep in ${options.dbFile}`);
    const loadOptions = {
      thresholds,
      now: Date.now() / 1000,
      ...(options.objective !== undefined ? { objective: options.objective } : {}),
      ...(options.xAxis !== undefined ? { xAxis: options.xAxis } : {}),
    };
    model = loadModel(store, sweep, loadOptions);
    gpu = loadGpuReport(store, sweep.pk, store.listRuns(sweep.pk));
  } finally {
    store.close();
  }

  const outDir = resolve(options.outDir ?? join('reports', model.sweep.name));
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    const path = join(outDir, name);
    writeFileSync(path, data);
    files.push(path);
    return path;
  };
  let pngs: string[] = [];
  if (formats.includes('png')) pngs = (await renderPngs(model)).map((p) => (write(p.file, p.data), p.file));
  if (formats.includes('json')) write('report.json', reportJson(model));
  if (formats.includes('csv')) write('ranking.csv', rankingCsv(model));
  const indexHtml = formats.includes('html') ? write('index.html', renderHtml(model, pngs, gpu)) : null;
  return { outDir, indexHtml, files, sweep: model.sweep.name, warnings: model.warnings };
}
