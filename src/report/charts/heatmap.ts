// Heatmaps over learning rate x batch size, one column per warmup, rows: objective and final gap.
// Drawn straight on the canvas: Chart.js has no heatmap type without a plugin.
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { Heatmap, ReportModel } from '../assemble.js';
import { HEADER, header } from './frame.js';
import { heatColor, formatValue } from './scale.js';

export async function drawHeatmaps(model: ReportModel, width: number, height: number): Promise<Buffer> {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const o = model.objective;
  header(
    ctx,
    'Learning rate x batch size',
    `Top row: ${o.key} (${o.direction === 'min' ? 'lower' : 'higher'} is better${o.ranked ? '' : '; not comparable across batch sizes'}); bottom row: final generalisation gap (lower is better). One column per warmup; mean over seeds and other parameters; yellow is better.`,
    width,
  );
  const maps = model.heatmaps;
  const w = Math.floor(width / maps.length);
  const h = Math.floor((height - HEADER) / 2);
  maps.forEach((map, i) => {
    drawOne(ctx, map, map.objective, `${o.key}, warmup ${map.warmup}`, o.direction === 'min', i * w, HEADER, w, h);
    drawOne(ctx, map, map.final_gap, `final gap, warmup ${map.warmup}`, true, i * w, HEADER + h, w, h);
  });
  return canvas.encode('png');
}

function drawOne(
  ctx: SKRSContext2D,
  map: Heatmap,
  grid: (number | null)[][],
  title: string,
  lowerBetter: boolean,
  x0: number,
  y0: number,
  w: number,
  h: number,
): void {
  const left = 90;
  const top = 36;
  const bottom = 44;
  const cw = (w - left - 20) / map.lrs.length;
  const ch = (h - top - bottom) / map.batch_sizes.length;
  const values = grid.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 15px DejaVu Sans, sans-serif';
  ctx.fillText(title, x0 + left, y0 + 22);
  ctx.font = '13px DejaVu Sans, sans-serif';
  map.batch_sizes.forEach((b, r) => {
    ctx.fillStyle = '#222222';
    ctx.textAlign = 'right';
    ctx.fillText(`bs ${b}`, x0 + left - 8, y0 + top + r * ch + ch / 2 + 5);
    map.lrs.forEach((lr, c) => {
      const v = grid[r]?.[c] ?? null;
      const t = v === null || !Number.isFinite(v) || hi === lo ? 0.5 : (v - lo) / (hi - lo);
      const x = x0 + left + c * cw;
      const y = y0 + top + r * ch;
      ctx.fillStyle = v === null ? '#eeeeee' : heatColor(lowerBetter ? 1 - t : t);
      ctx.fillRect(x + 1, y + 1, cw - 2, ch - 2);
      ctx.textAlign = 'center';
      ctx.fillStyle = v === null ? '#888888' : (lowerBetter ? 1 - t : t) > 0.6 ? '#000000' : '#ffffff';
      ctx.fillText(v === null ? 'n/a' : formatValue(v), x + cw / 2, y + ch / 2 + 5);
      if (r === map.batch_sizes.length - 1) {
        ctx.fillStyle = '#222222';
        ctx.fillText(`lr ${lr.toExponential(0)}`, x + cw / 2, y + ch + 20);
      }
    });
  });
  ctx.textAlign = 'left';
}
