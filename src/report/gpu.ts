// GPU use in the report: each run's peak memory and mean utilisation, and per GPU a timeline of
// memory (everyone's and the sweep's) and utilisation over the sweep, so idle gaps show. The
// samples are the low-rate ones the orchestrator stored (resources.gpu_record_ms).
import type { StoreReader } from '../store/index.js';
import type { RunRecord } from '../store/types.js';
import { escapeHtml as e } from './html/escape.js';

export interface GpuReport {
  runs: {
    name: string;
    gpu: number | null;
    peakMiB: number | null;
    utilMean: number | null;
    needMinMiB: number | null;
  }[];
  gpus: {
    index: number;
    totalMiB: number;
    samples: { at: number; usedMiB: number; sweepMiB: number; util: number | null }[];
  }[];
}

/** Null when nothing was measured (a CPU sweep, or one run before GPU measurement existed). */
export function loadGpuReport(store: StoreReader, sweepPk: number, runs: readonly RunRecord[]): GpuReport | null {
  const use = store.runGpuUse(sweepPk);
  const samples = store.gpuSamples(sweepPk);
  if (use.size === 0 && samples.length === 0) return null;
  const gpus = new Map<number, GpuReport['gpus'][number]>();
  for (const s of samples) {
    const gpu = gpus.get(s.gpu) ?? { index: s.gpu, totalMiB: s.totalMiB, samples: [] };
    gpu.samples.push({ at: s.at, usedMiB: s.usedMiB, sweepMiB: s.sweepMiB, util: s.util });
    gpus.set(s.gpu, gpu);
  }
  return {
    runs: runs.map((run) => {
      const u = use.get(run.pk);
      return {
        name: run.name,
        gpu: run.gpu,
        peakMiB: u?.peakMiB ?? null,
        utilMean: u?.utilMean ?? null,
        needMinMiB: u?.needMinMiB ?? null,
      };
    }),
    gpus: [...gpus.values()].sort((a, b) => a.index - b.index),
  };
}

const mib = (value: number | null): string =>
  value === null ? '—' : `${Math.round(value).toLocaleString('en-US')} MiB`;
const pct = (value: number | null): string => (value === null ? '—' : `${Math.round(value)}%`);

export function gpuSection(report: GpuReport | null): string {
  if (report === null) return '<p class="none">No GPU use was measured for this sweep.</p>';
  const rows = report.runs
    .map(
      (r) =>
        `<tr><td>${e(r.name)}</td><td>${r.gpu === null ? '—' : r.gpu}</td><td data-sort="${r.peakMiB ?? ''}">${mib(r.peakMiB)}</td><td data-sort="${r.utilMean ?? ''}">${pct(r.utilMean)}</td><td>${r.needMinMiB === null ? '' : `out of memory with ${mib(r.needMinMiB)}`}</td></tr>`,
    )
    .join('\n');
  const table = `<table id="gpu-runs" class="sortable"><thead><tr><th scope="col" tabindex="0">run</th><th scope="col" tabindex="0">GPU</th><th scope="col" tabindex="0">peak memory</th><th scope="col" tabindex="0">mean utilisation</th><th scope="col">note</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
  const start = Math.min(...report.gpus.flatMap((g) => g.samples.map((s) => s.at)));
  const end = Math.max(...report.gpus.flatMap((g) => g.samples.map((s) => s.at)));
  const timelines = report.gpus.map((g) => timeline(g, start, end)).join('\n');
  return `${table}\n<p class="hint">Per GPU over the sweep: memory held by anyone (grey), by the sweep's runs (blue), and utilisation (orange dashed), as a share of the GPU. Flat blue at zero is an idle gap.</p>\n<div id="gpu-timelines">${timelines}</div>`;
}

function timeline(gpu: GpuReport['gpus'][number], start: number, end: number): string {
  const width = 640;
  const height = 90;
  const span = Math.max(end - start, 1e-9);
  const x = (at: number): string => ((width * (at - start)) / span).toFixed(1);
  const y = (share: number): string => (height - height * Math.max(0, Math.min(1, share))).toFixed(1);
  const line = (value: (s: GpuReport['gpus'][number]['samples'][number]) => number | null): string =>
    gpu.samples
      .flatMap((s) => {
        const v = value(s);
        return v === null ? [] : [`${x(s.at)},${y(v)}`];
      })
      .join(' ');
  const total = gpu.totalMiB || 1;
  const busy = gpu.samples.filter((s) => s.sweepMiB > 0).length;
  return `<figure class="gpu-timeline" data-gpu="${gpu.index}"><figcaption>GPU ${gpu.index}: ${gpu.samples.length} samples, the sweep's runs on it in ${busy}; ${mib(gpu.totalMiB)} in all</figcaption>
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="GPU ${gpu.index} memory and utilisation over the sweep">
<rect width="${width}" height="${height}" fill="none" stroke="#ccc"/>
<polyline class="used" fill="none" stroke="#999" points="${line((s) => s.usedMiB / total)}"/>
<polyline class="sweep" fill="none" stroke="#1f77b4" points="${line((s) => s.sweepMiB / total)}"/>
<polyline class="util" fill="none" stroke="#ff7f0e" stroke-dasharray="4 2" points="${line((s) => (s.util === null ? null : s.util / 100))}"/>
</svg></figure>`;
}
