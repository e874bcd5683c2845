// One self-contained index.html: no network. Chart.js (UMD build) and the chart builders are
// inlined; the data is one JSON block; every string from the database is escaped.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportModel } from '../assemble.js';
import { chartInput } from '../charts/input.js';
import { escapeHtml as e, jsonForScript, scriptText } from './escape.js';
import { PAGE_SCRIPT } from './page-script.js';
import { comparison, heatmaps, ranking, runDetails, summary } from './sections.js';
import { STYLES } from './styles.js';
import { gpuSection, type GpuReport } from '../gpu.js';

let assets: { chartJs: string; specs: string } | undefined;

/** Chart.js's UMD bundle and the compiled charts/specs.js, read once per process. */
function loadAssets(): { chartJs: string; specs: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const chartDir = dirname(require.resolve('chart.js'));
    const chartJs = readFileSync(join(chartDir, 'chart.umd.min.js'), 'utf8');
    // specs.js has no imports; dropping `export` makes it a plain script.
    const specs = readFileSync(new URL('../charts/specs.js', import.meta.url), 'utf8')
      .replace(/^export /gm, '')
      .replace(/^\/\/# sourceMappingURL=.*$/m, '');
    assets = { chartJs, specs };
  }
  return assets;
}

export function renderHtml(model: ReportModel, pngs: string[], gpu: GpuReport | null = null): string {
  const { chartJs, specs } = loadAssets();
  const data = { charts: chartInput(model), pngs };
  const generated = new Date(model.generated_at * 1000).toISOString().replace('T', ' ').slice(0, 19);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${e(model.sweep.name)}: sweep report</title>
<style>${STYLES}</style></head>
<body>
<h1>Sweep report: ${e(model.sweep.name)}</h1>
<p class="meta">Generated ${e(generated)} UTC by clipsweep. Thresholds: ${e(
    Object.entries(model.thresholds)
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
  )} (docs/report.md).${
    model.batch_dependent_metrics.length > 0
      ? ` Batch-dependent metrics (declared by the trainer): ${e(model.batch_dependent_metrics.join(', '))}.`
      : ''
  }</p>
<h2 id="summary">Summary</h2>
${summary(model)}
<h2 id="ranking-title">Ranking</h2>
${ranking(model)}
<h2 id="comparison">Best-practice comparison</h2>
${comparison(model)}
<h2 id="charts-title">Charts</h2>
<p class="hint">Hover for values; click a legend entry to show or hide a configuration. One colour per configuration in every chart; bands span the seeds (min..max) around their mean.</p>
${xAxisSwitch(model)}
<div id="charts"></div>
<h3>Learning rate x batch size</h3>
${heatmaps(model)}
<h2 id="runs">Runs</h2>
${runDetails(model)}
<h2 id="gpu">GPU use</h2>
${gpuSection(gpu)}
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${scriptText(chartJs)}</script>
<script>(function () {
${scriptText(specs)}
${scriptText(PAGE_SCRIPT)}
})();</script>
</body></html>
`;
}

const X_LABELS: Record<string, string> = { step: 'steps', epoch: 'epochs', samples: 'samples seen' };

/** Radio buttons that redraw every chart on another x axis (page-script.ts listens to them). */
function xAxisSwitch(model: ReportModel): string {
  const { available, default: chosen } = model.x_axis;
  const why =
    chosen === 'epoch'
      ? ' Epochs by default: the sweep varies batch_size, so runs take different numbers of steps for the same data.'
      : '';
  const buttons = available
    .map(
      (a) =>
        `<label><input type="radio" name="x-axis" value="${e(a)}"${a === chosen ? ' checked' : ''}> ${e(X_LABELS[a] ?? a)}</label>`,
    )
    .join(' ');
  return `<p id="x-axis-switch" class="hint">x axis: ${buttons}.${e(why)}</p>`;
}
