// PNGs: Chart.js drawing on @napi-rs/canvas (no DOM; Chart.js picks its basic platform), one
// 1400x800 image per chart, small multiples composited from one sub-canvas per panel.
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration as ChartJsConfig, type Plugin } from 'chart.js';
import type { ReportModel } from '../assemble.js';
import { HEADER, HEIGHT, WIDTH, header } from './frame.js';
import { drawHeatmaps } from './heatmap.js';
import { chartInput } from './input.js';
import { buildCharts, type ChartDef } from './specs.js';

Chart.register(...registerables);

const whiteBackground: Plugin = {
  id: 'whiteBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

export async function renderPngs(model: ReportModel): Promise<{ file: string; data: Buffer }[]> {
  Chart.defaults.font.family = 'DejaVu Sans, Liberation Sans, sans-serif';
  Chart.defaults.font.size = 13;
  Chart.defaults.color = '#222222';
  const out: { file: string; data: Buffer }[] = [];
  for (const def of buildCharts(chartInput(model))) out.push({ file: def.file, data: await renderChart(def) });
  const heat = model.heatmaps.length > 0 ? await drawHeatmaps(model, WIDTH, HEIGHT) : null;
  if (heat) out.push({ file: 'heatmaps.png', data: heat });
  return out;
}

async function renderChart(def: ChartDef): Promise<Buffer> {
  const canvas = createCanvas(WIDTH, HEIGHT);
  const ctx = canvas.getContext('2d');
  header(ctx, def.title, def.note, WIDTH);
  const n = def.panels.length;
  const cols = n === 1 ? 1 : Math.ceil(Math.sqrt(n * 1.6));
  const rows = Math.ceil(n / cols);
  const w = Math.floor(WIDTH / cols);
  const h = Math.floor((HEIGHT - HEADER) / rows);
  def.panels.forEach((panel, i) => {
    const sub = createCanvas(w, h);
    const config = panel.config as unknown as ChartJsConfig;
    const options = (config.options ?? {}) as Record<string, unknown>;
    const chart = new Chart(sub as unknown as HTMLCanvasElement, {
      ...config,
      options: { ...options, responsive: false, animation: false, devicePixelRatio: 1 },
      plugins: [whiteBackground],
    });
    ctx.drawImage(sub, (i % cols) * w, HEADER + Math.floor(i / cols) * h);
    chart.destroy();
  });
  return canvas.encode('png');
}
