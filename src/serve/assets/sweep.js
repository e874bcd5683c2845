// A sweep, live: alerts, parallel coordinates, runs table, compare view, the report's charts and
// heatmaps. State comes as one snapshot, then deltas over server-sent events (sweep-state.js);
// this module lays the page out and decides what to redraw when. A native ES module: the
// server serves these files as they are, no build step.
import { AlertList, PcoordsView } from './sweep-alerts.js';
import { ChartBoard } from './sweep-charts.js';
import { renderCompare } from './sweep-compare.js';
import { renderHeatmaps } from './sweep-heatmaps.js';
import { S, STATES, applyDelta, applySnapshot } from './sweep-state.js';
import { RunsTable } from './sweep-table.js';

const el = cs.el;
const sweepName = cs.pathParts()[1];
const runHref = (id) => '/sweep/' + encodeURIComponent(sweepName) + '/run/' + encodeURIComponent(id);

document.title = sweepName + ': clipsweep';
cs.clear(document.getElementById('crumbs')).appendChild(el('span', { text: '/ ' + sweepName }));
const main = document.getElementById('main');
const counts = el('p', { id: 'counts' });
const alertList = el('ul', { id: 'alerts', class: 'alerts' });
const pcCanvas = el('canvas', {
  id: 'pcoords',
  'aria-label': 'parallel coordinates: parameters against the objective',
});
const stateSel = el(
  'select',
  { id: 'filter-state' },
  [el('option', { value: '', text: 'all states' })].concat(STATES.map((s) => el('option', { value: s, text: s }))),
);
const paramInput = el('input', { id: 'filter-param', type: 'text', placeholder: 'lr=0.001 batch_size=64, or a name' });
const xSel = el(
  'select',
  { id: 'x-axis' },
  ['step', 'epoch', 'samples'].map((x) => el('option', { value: x, text: x })),
);
const clearBrush = el('button', { id: 'clear-brush', type: 'button', text: 'clear brushes' });
const compareBtn = el('button', { id: 'compare-btn', type: 'button', text: 'compare selected' });
const table = el('table', { id: 'runs' });
// The table scrolls in its own box (as dashboards' run tables do), windowed (sweep-table.js).
const tableBox = el('div', { id: 'runs-box', class: 'table-box' }, [table]);
const compareBox = el('section', { id: 'compare', hidden: 'hidden' });
const chartsBox = el('div', { id: 'charts', class: 'charts' });
const heatBox = el('div', { id: 'heatmaps', class: 'heatmaps' });
main.append(
  el('h1', { id: 'sweep-name', text: sweepName }),
  counts,
  el('h2', { text: 'Alerts' }),
  alertList,
  el('h2', { text: 'Parameters against the objective' }),
  el('p', {
    class: 'hint',
    id: 'pcoords-hint',
    text: 'Drag along an axis to keep only the runs in that range (table and charts follow); click an axis to clear its brush.',
  }),
  el('div', { id: 'pcoords-box' }, [pcCanvas]),
  el('h2', { text: 'Runs' }),
  el('div', { class: 'controls' }, [
    el('label', { text: 'state' }),
    stateSel,
    el('label', { text: 'parameters' }),
    paramInput,
    el('label', { text: 'x axis' }),
    xSel,
    clearBrush,
    compareBtn,
  ]),
  tableBox,
  compareBox,
  el('h2', { text: 'Charts' }),
  el('p', {
    class: 'hint',
    text: 'The report\u2019s charts, one line per run, updating as points arrive. Click a legend entry to hide a run.',
  }),
  chartsBox,
  el('h3', { text: 'Learning rate x batch size' }),
  heatBox,
);

const runsTable = RunsTable({
  table,
  box: tableBox,
  counts,
  runHref,
  fetchStderr: (id) =>
    cs
      .api('/api/sweeps/' + encodeURIComponent(sweepName) + '/runs/' + encodeURIComponent(id))
      .then((d) => d.stderr_tail || '(no stderr recorded)'),
  onSelect: () => {
    if (!compareBox.hidden) showCompare();
  },
  render: () => runsTable.render(visibleRuns()),
});
const renderAlerts = AlertList(alertList, runHref);
const pc = window.ParallelCoords(pcCanvas, (sel) => {
  S.brush = sel;
  render(true);
});
const renderPcoords = PcoordsView(pc);
const xUnit = () => xSel.value;
const charts = ChartBoard(xUnit);
charts.attach(chartsBox);
const compareCharts = ChartBoard(xUnit);
const showCompare = () => renderCompare(compareBox, compareCharts);

clearBrush.addEventListener('click', () => pc.clear());
stateSel.addEventListener('change', () => render(true));
paramInput.addEventListener('input', () => render(true));
xSel.addEventListener('change', () => render(true));
compareBtn.addEventListener('click', () => {
  compareBox.hidden = !compareBox.hidden;
  showCompare();
});

function paramMatcher() {
  const text = paramInput.value.trim();
  if (!text) return () => true;
  const terms = text.split(/[\s,]+/).filter(Boolean);
  return (r) =>
    terms.every((t) => {
      const eq = t.indexOf('=');
      if (eq < 0) return r.name.toLowerCase().indexOf(t.toLowerCase()) >= 0;
      const k = t.slice(0, eq);
      const v = t.slice(eq + 1);
      if (!(k in r.params)) return false;
      const p = r.params[k];
      return String(p) === v || (typeof p === 'number' && Number(v) === p);
    });
}

function visibleRuns() {
  const state = stateSel.value;
  const match = paramMatcher();
  return S.order
    .map((id) => S.runs.get(id))
    .filter((r) => (!state || r.status === state) && match(r) && (!S.brush || S.brush.has(r.id)));
}

// Deltas arrive every poll (500 ms): they are gathered and applied to the page once per frame.
// The charts pace themselves (sweep-charts.js). The table and the parallel coordinates follow
// deltas at a slower pace (SLOW_MS): relaying out a 200-row table twice a second cost more than
// drawing the charts. A filter, sort or brush redraws everything at once.
const SLOW_MS = 1000;
let queued = false;
let chartsStale = true;
let slowAt = -Infinity;
let slowTimer = null;
function render(now) {
  chartsStale = true;
  if (now) return flush(true);
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => flush(false));
}
function flush(all) {
  queued = false;
  const shown = visibleRuns();
  if (chartsStale) charts.update(shown);
  chartsStale = false;
  renderAlerts();
  if (!compareBox.hidden) showCompare();
  if (all || performance.now() - slowAt >= SLOW_MS) renderSlow(shown);
  else if (slowTimer === null)
    slowTimer = setTimeout(
      () => requestAnimationFrame(() => renderSlow(visibleRuns())),
      SLOW_MS - (performance.now() - slowAt),
    );
}
function renderSlow(shown) {
  clearTimeout(slowTimer);
  slowTimer = null;
  slowAt = performance.now();
  runsTable.render(shown);
  renderPcoords();
  renderHeatmaps(heatBox, shown);
}

cs.follow('/api/sweeps/' + encodeURIComponent(sweepName) + '/events', {
  snapshot: (snap) => {
    applySnapshot(snap);
    runsTable.renderHead();
    // The table and the charts first; the parallel coordinates and the heatmaps after the
    // first paint.
    const shown = visibleRuns();
    runsTable.render(shown);
    renderAlerts();
    charts.update(shown);
    chartsStale = false;
    requestAnimationFrame(() => setTimeout(() => flush(true), 0));
  },
  delta: (d) => {
    applyDelta(d);
    render(false);
  },
});

// Elapsed and ETA move with the clock even when no row does (only those cells change).
setInterval(() => {
  if (performance.now() - slowAt < SLOW_MS) return;
  for (const r of S.runs.values()) if (r.status === 'running') return runsTable.render(visibleRuns());
}, SLOW_MS);
