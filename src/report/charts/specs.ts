// Chart.js configurations for every chart of the report, built from the model's drawn series.
// This file has no imports on purpose: the PNG renderer runs it in Node, and the HTML page embeds
// its compiled text (see html/render.ts), so the images and the interactive charts are the same
// charts. Keep it plain: no imports, no Node or DOM APIs.

export interface DrawnSeries {
  x: number[];
  y: number[];
  lo?: number[];
  hi?: number[];
}

export interface ChartConfiguration {
  id: string;
  name: string;
  rank: number | null;
  color: string;
  dash: number[];
  params: Record<string, unknown>;
  series: Record<string, DrawnSeries>;
  best_step: number | null;
  best_val: number | null;
  onset: number | null;
  retrieval_best: Record<string, number>;
  retrieval_final: Record<string, number>;
  /** One step in epochs and in samples seen (null: unknown); needed for those x axes. */
  x_per_step?: { epoch: number | null; samples: number | null };
}

/** What the x axis counts. */
export type XAxisKind = 'step' | 'epoch' | 'samples';

export interface ChartInput {
  configs: ChartConfiguration[];
  clamp: number;
  /** Small multiples and bar charts show at most this many configurations (the first, i.e. best ranked). */
  maxPanels: number;
  /** Legends are drawn only up to this many configurations. */
  maxLegend: number;
  /** Default 'step'; 'epoch' or 'samples' where every configuration has its x_per_step factor. */
  x_axis?: XAxisKind;
  /** A search's runs in the order proposed, with the objective's best so far. */
  trials?: {
    metric: string;
    mode: string;
    points: { trial: number; name: string; origin: string; value: number | null; best: number | null }[];
  };
}

const X_TITLES: Record<XAxisKind, string> = { step: 'step', epoch: 'epoch', samples: 'samples seen' };
const X_OVER: Record<XAxisKind, string> = { step: 'over steps', epoch: 'over epochs', samples: 'over samples seen' };

/** The configurations with every step (series x, best step, onset) in the chosen axis' unit. */
function onAxis(input: ChartInput): { configs: ChartConfiguration[]; axis: XAxisKind } {
  const wanted = input.x_axis ?? 'step';
  if (wanted === 'step') return { configs: input.configs, axis: 'step' };
  const factor = (c: ChartConfiguration) => (c.x_per_step ? c.x_per_step[wanted] : null);
  // One configuration without the factor would be drawn on another scale: fall back to steps.
  if (!input.configs.every((c) => factor(c) !== null)) return { configs: input.configs, axis: 'step' };
  const configs = input.configs.map((c) => {
    const k = factor(c)!;
    const conv = (v: number) => Math.round(v * k * 1000) / 1000;
    const series: Record<string, DrawnSeries> = {};
    for (const key of Object.keys(c.series)) {
      const s = c.series[key]!;
      series[key] = { ...s, x: s.x.map(conv) };
    }
    return {
      ...c,
      series,
      best_step: c.best_step === null ? null : conv(c.best_step),
      onset: c.onset === null ? null : conv(c.onset),
    };
  });
  return { configs, axis: wanted };
}

export interface PanelSpec {
  title: string;
  config: Record<string, unknown>;
}
export interface ChartDef {
  id: string;
  file: string;
  title: string;
  note: string;
  panels: PanelSpec[];
}

type Dataset = Record<string, unknown>;

const SHADE = 'rgba(230, 159, 0, 0.22)';
/** Charts with more configurations than this draw no seed bands. */
const MAX_BANDS = 8;

function points(xs: number[], ys: number[]): { x: number; y: number | null }[] {
  const out = [];
  for (let i = 0; i < xs.length; i++) out.push({ x: xs[i]!, y: ys[i] === undefined ? null : ys[i]! });
  return out;
}

function withAlpha(hex: string, alpha: string): string {
  return hex.length === 7 ? hex + alpha : hex;
}

/** The line of one configuration, with its seed band (mean, min..max) drawn behind it. */
function seriesDatasets(c: ChartConfiguration, key: string, label: string, dash?: number[], bands = true): Dataset[] {
  const s = c.series[key];
  if (!s) return [];
  const line = {
    label,
    data: points(s.x, s.y),
    borderColor: c.color,
    backgroundColor: c.color,
    borderDash: dash ?? c.dash,
    borderWidth: 2,
    pointRadius: 0,
    pointHoverRadius: 4,
    fill: false,
    group: c.id,
  };
  if (!s.lo || !s.hi || !bands) return [line];
  const band = {
    data: points(s.x, s.hi),
    borderWidth: 0,
    pointRadius: 0,
    backgroundColor: withAlpha(c.color, '33'),
    fill: '+1',
    group: c.id,
    helper: true,
    label: label + ' (max)',
  };
  const low = {
    data: points(s.x, s.lo),
    borderWidth: 0,
    pointRadius: 0,
    fill: false,
    group: c.id,
    helper: true,
    label: label + ' (min)',
  };
  return [band, low, line];
}

function xMaxOf(configs: ChartConfiguration[], keys: string[]): number {
  let max = 1;
  for (const c of configs)
    for (const k of keys) {
      const s = c.series[k];
      if (s && s.x.length > 0) max = Math.max(max, s.x[s.x.length - 1]!);
    }
  return max;
}

function yRangeOf(configs: ChartConfiguration[], keys: string[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of configs)
    for (const k of keys) {
      const s = c.series[k];
      if (!s) continue;
      for (const v of s.lo ?? s.y) if (v !== null && isFinite(v)) lo = Math.min(lo, v);
      for (const v of s.hi ?? s.y) if (v !== null && isFinite(v)) hi = Math.max(hi, v);
    }
  if (!(lo <= hi)) return [0, 1];
  const pad = (hi - lo) * 0.05 || 0.5;
  return [lo - pad, hi + pad];
}

/** Legend: one entry per configuration line; a click shows or hides the line and its band. */
function legend(show: boolean): Record<string, unknown> {
  return {
    display: show,
    position: 'right',
    labels: {
      boxWidth: 18,
      filter: (item: { datasetIndex: number }, data: { datasets: Dataset[] }) =>
        !data.datasets[item.datasetIndex]!['helper'],
    },
    onClick: (
      _e: unknown,
      item: { datasetIndex: number },
      l: {
        chart: {
          data: { datasets: Dataset[] };
          isDatasetVisible(i: number): boolean;
          setDatasetVisibility(i: number, v: boolean): void;
          update(): void;
        };
      },
    ) => {
      const chart = l.chart;
      const group = chart.data.datasets[item.datasetIndex]!['group'];
      const visible = !chart.isDatasetVisible(item.datasetIndex);
      chart.data.datasets.forEach((d, i) => {
        if (group !== undefined && d['group'] === group) chart.setDatasetVisibility(i, visible);
      });
      if (group === undefined) chart.setDatasetVisibility(item.datasetIndex, visible);
      chart.update();
    },
  };
}

function lineConfig(
  datasets: Dataset[],
  o: {
    title: string;
    xTitle?: string;
    yTitle: string;
    xMax: number;
    yMin?: number;
    yMax?: number;
    legend: boolean;
    yTicks?: (v: number) => string;
  },
): Record<string, unknown> {
  return {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      spanGaps: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        title: { display: o.title !== '', text: o.title, font: { size: 15, weight: 'bold' } },
        legend: legend(o.legend),
        tooltip: { filter: (item: { dataset: Dataset }) => !item.dataset['helper'] },
      },
      scales: {
        x: { type: 'linear', min: 0, max: o.xMax, title: { display: true, text: o.xTitle ?? 'step' } },
        y: {
          type: 'linear',
          ...(o.yMin !== undefined ? { min: o.yMin } : {}),
          ...(o.yMax !== undefined ? { max: o.yMax } : {}),
          title: { display: true, text: o.yTitle },
          ...(o.yTicks ? { ticks: { callback: o.yTicks } } : {}),
        },
      },
    },
  };
}

function xTitle(input: ChartInput): string {
  return X_TITLES[input.x_axis ?? 'step'];
}

function hline(y: number, xMax: number, label: string): Dataset {
  return {
    label,
    data: [
      { x: 0, y },
      { x: xMax, y },
    ],
    borderColor: '#555555',
    borderDash: [6, 4],
    borderWidth: 1.5,
    pointRadius: 0,
    fill: false,
  };
}

function overfitPanels(input: ChartInput): ChartDef | null {
  const shown = input.configs.filter((c) => c.series['val/loss'] || c.series['train/loss']).slice(0, input.maxPanels);
  if (shown.length === 0) return null;
  const trainKey = (c: ChartConfiguration) => (c.series['train_eval/loss'] ? 'train_eval/loss' : 'train/loss');
  const xMax = xMaxOf(shown, ['train/loss', 'val/loss', 'train_eval/loss']);
  const [yMin, yMax] = yRangeOf(shown, ['val/loss', 'train_eval/loss', 'train/loss']);
  const panels = shown.map((c) => {
    const datasets: Dataset[] = [];
    if (c.onset !== null) {
      datasets.push({
        label: 'overfitting',
        data: [
          { x: c.onset, y: yMax },
          { x: xMax, y: yMax },
        ],
        backgroundColor: SHADE,
        borderWidth: 0,
        pointRadius: 0,
        fill: 'start',
      });
    }
    datasets.push(...seriesDatasets(c, trainKey(c), trainKey(c), []));
    datasets.push(...seriesDatasets(c, 'val/loss', 'val/loss', [7, 4]));
    if (c.best_step !== null && c.best_val !== null) {
      datasets.push({
        label: 'best val step',
        data: [{ x: c.best_step, y: c.best_val }],
        type: 'scatter',
        pointStyle: 'triangle',
        pointRadius: 8,
        backgroundColor: '#000000',
        borderColor: '#000000',
      });
      datasets.push({
        label: 'best step',
        data: [
          { x: c.best_step, y: yMin },
          { x: c.best_step, y: yMax },
        ],
        borderColor: '#000000',
        borderDash: [2, 3],
        borderWidth: 1,
        pointRadius: 0,
        fill: false,
        helper: true,
      });
    }
    const title = `${c.rank !== null ? '#' + c.rank + ' ' : ''}${c.name}${c.onset !== null ? ' (overfits from ' + xTitle(input) + ' ' + c.onset + ')' : ''}`;
    return {
      title,
      config: lineConfig(datasets, { title, xTitle: xTitle(input), yTitle: 'loss', xMax, yMin, yMax, legend: false }),
    };
  });
  const more =
    input.configs.length > shown.length
      ? ` Showing the first ${shown.length} of ${input.configs.length} configurations.`
      : '';
  return {
    id: 'overfitting',
    file: 'overfitting.png',
    title: 'Overfitting: train vs validation loss',
    note: `Solid: train loss (train_eval where recorded); dashed: validation loss; triangle: best validation step; shaded: overfitting from its onset. Shared axes.${more}`,
    panels,
  };
}

function allLines(
  input: ChartInput,
  key: string,
  id: string,
  title: string,
  yTitle: string,
  note: string,
  extra?: (xMax: number) => Dataset[],
  range?: { yMin?: number; yMax?: number },
  yTicks?: (v: number) => string,
): ChartDef | null {
  const shown = input.configs.filter((c) => c.series[key]);
  if (shown.length === 0) return null;
  const xMax = xMaxOf(shown, [key]);
  // Past a handful of configurations, overlapping seed bands turn into mud: lines only.
  const datasets = shown.flatMap((c) => seriesDatasets(c, key, c.name, undefined, shown.length <= MAX_BANDS));
  if (extra) datasets.push(...extra(xMax));
  const config = lineConfig(datasets, {
    title: '',
    xTitle: xTitle(input),
    yTitle,
    xMax,
    legend: shown.length <= input.maxLegend,
    ...(range ?? {}),
    ...(yTicks ? { yTicks } : {}),
  });
  return { id, file: `${id}.png`, title, note, panels: [{ title: '', config }] };
}

function scaleGroups(input: ChartInput, param: string, label: string): ChartDef | null {
  const values = [
    ...new Set(
      input.configs
        .filter((c) => c.series['logit_scale'] && c.params[param] !== undefined)
        .map((c) => JSON.stringify(c.params[param])),
    ),
  ];
  if (values.length < 2) return null;
  values.sort((a, b) => Number(JSON.parse(a)) - Number(JSON.parse(b)) || (a < b ? -1 : 1));
  const xMax = xMaxOf(input.configs, ['logit_scale']);
  const panels = values.map((v) => {
    const shown = input.configs.filter((c) => c.series['logit_scale'] && JSON.stringify(c.params[param]) === v);
    const datasets = shown.flatMap((c) =>
      seriesDatasets(c, 'logit_scale', c.name, undefined, shown.length <= MAX_BANDS),
    );
    datasets.push(hline(input.clamp, xMax, `clamp ${input.clamp}`));
    const title = `${param} = ${JSON.parse(v)}`;
    return {
      title,
      config: lineConfig(datasets, {
        title,
        xTitle: xTitle(input),
        yTitle: 'logit scale',
        xMax,
        yMin: 0,
        yMax: input.clamp * 1.08,
        legend: false,
      }),
    };
  });
  return {
    id: `scale-by-${label}`,
    file: `scale-by-${label}.png`,
    title: `Logit scale by ${param}`,
    note: `One panel per ${param}; colours as in every chart; dashed grey line: the clamp at ${input.clamp}.`,
    panels,
  };
}

const RETRIEVAL_ORDER = ['i2t', 't2i'];

function retrieval(input: ChartInput): ChartDef | null {
  const shown = input.configs.filter((c) => Object.keys(c.retrieval_final).length > 0).slice(0, input.maxPanels);
  if (shown.length === 0) return null;
  const keys = [...new Set(shown.flatMap((c) => Object.keys(c.retrieval_final)))].sort((a, b) => {
    const [da, ka] = [RETRIEVAL_ORDER.indexOf(a.slice(4, 7)), Number(a.split('@')[1])];
    const [db, kb] = [RETRIEVAL_ORDER.indexOf(b.slice(4, 7)), Number(b.split('@')[1])];
    return da - db || ka - kb;
  });
  const labels = keys.map((k) => k.replace('val/', '').replace('_', ' '));
  const panel = (which: 'retrieval_best' | 'retrieval_final', title: string) => ({
    title,
    config: {
      type: 'bar',
      data: {
        labels,
        datasets: shown.map((c) => ({
          label: c.name,
          data: keys.map((k) => c[which][k] ?? null),
          backgroundColor: c.color,
          borderColor: c.color,
          group: c.id,
        })),
      },
      options: {
        animation: false,
        plugins: {
          title: { display: true, text: title, font: { size: 15, weight: 'bold' } },
          legend: legend(shown.length <= input.maxLegend),
        },
        scales: { y: { beginAtZero: true, title: { display: true, text: 'recall' } } },
      },
    },
  });
  const more = input.configs.length > shown.length ? ` Showing the first ${shown.length} configurations.` : '';
  return {
    id: 'retrieval',
    file: 'retrieval.png',
    title: 'Retrieval recall@k, image-to-text and text-to-image',
    note: `At the best validation-loss step (left) and at the last evaluation (right): recall can keep improving while validation loss says the model overfits.${more}`,
    panels: [panel('retrieval_best', 'at best val step'), panel('retrieval_final', 'at end')],
  };
}

const ORIGIN_COLORS: Record<string, string> = { random: '#999999', tpe: '#0072B2', config: '#E69F00', grid: '#009E73' };

/** The search's progress: every trial's value, coloured by origin, and the best so far as a step line. */
function bestSoFar(input: ChartInput): ChartDef | null {
  const t = input.trials;
  if (!t || t.points.every((p) => p.value === null)) return null;
  const origins = [...new Set(t.points.map((p) => p.origin))];
  const datasets: Dataset[] = [
    {
      label: 'best so far',
      data: t.points.filter((p) => p.best !== null).map((p) => ({ x: p.trial, y: p.best })),
      stepped: 'before',
      borderColor: '#000000',
      backgroundColor: '#000000',
      borderWidth: 2,
      pointRadius: 0,
      fill: false,
    },
  ];
  for (const origin of origins) {
    const color = ORIGIN_COLORS[origin] ?? '#CC79A7';
    datasets.push({
      label: origin === 'random' ? 'random start-up' : origin === 'tpe' ? 'TPE proposal' : origin,
      type: 'scatter',
      data: t.points
        .filter((p) => p.origin === origin && p.value !== null)
        .map((p) => ({ x: p.trial, y: p.value, name: p.name })),
      backgroundColor: color,
      borderColor: color,
      pointRadius: 4,
    });
  }
  const config = lineConfig(datasets, {
    title: '',
    xTitle: 'trial (order proposed)',
    yTitle: t.metric,
    xMax: Math.max(1, t.points.length),
    legend: true,
  });
  return {
    id: 'search',
    file: 'search.png',
    title: 'Search: best so far over trials',
    note: `Each run's ${t.mode === 'min' ? 'lowest' : 'highest'} ${t.metric} (a pruned run's last value) in the order the search proposed it, and the best so far (black).`,
    panels: [{ title: '', config }],
  };
}

/** Every chart id buildCharts can return, in its order. */
export const CHART_IDS = ['search', 'overfitting', 'gap', 'scale', 'scale-by-batch', 'scale-by-lr', 'retrieval', 'lr'];

/**
 * The charts that have data, in CHART_IDS order. `only`: build just these ids (the live page
 * builds a chart when it nears the screen; building all for 200 runs cost it 50-120 ms a time).
 */
export function buildCharts(raw: ChartInput, only?: readonly string[]): ChartDef[] {
  const { configs, axis } = onAxis(raw);
  const input: ChartInput = { ...raw, configs, x_axis: axis };
  const sci = (v: number) => Number(v).toExponential(1);
  // Each chart with its id, built only when wanted.
  const builders: [string, () => ChartDef | null][] = [
    ['search', () => bestSoFar(input)],
    ['overfitting', () => overfitPanels(input)],
    [
      'gap',
      () =>
        allLines(
          input,
          'gap',
          'gap',
          `Generalisation gap ${X_OVER[axis]}`,
          'val loss − train loss',
          'Validation loss minus train_eval loss (or the smoothed train loss where train_eval is absent), every configuration; dotted line at 0.',
          (xMax) => [{ ...hline(0, xMax, 'zero'), borderDash: [2, 3] }],
        ),
    ],
    [
      'scale',
      () =>
        allLines(
          input,
          'logit_scale',
          'scale',
          'Logit scale trajectory',
          'logit scale (exp s)',
          `Every configuration; dashed grey line: the clamp at ${input.clamp}. A dip followed by a climb back to the clamp is the instability to look for.`,
          (xMax) => [hline(input.clamp, xMax, `clamp ${input.clamp}`)],
          { yMin: 0, yMax: input.clamp * 1.08 },
        ),
    ],
    ['scale-by-batch', () => scaleGroups(input, 'batch_size', 'batch')],
    ['scale-by-lr', () => scaleGroups(input, 'lr', 'lr')],
    ['retrieval', () => retrieval(input)],
    [
      'lr',
      () =>
        allLines(
          input,
          'lr',
          'lr',
          `Learning rate ${X_OVER[axis]}`,
          'learning rate',
          'The schedule each run actually applied: warmup, then decay.',
          undefined,
          undefined,
          sci,
        ),
    ],
  ];
  return builders
    .filter(([id]) => only === undefined || only.includes(id))
    .map(([, build]) => build())
    .filter((c): c is ChartDef => c !== null);
}
