// The sweep page's state, as the server sent it: one snapshot, then deltas. Other modules read
// it; only the handlers here change it.
export const STATES = ['queued', 'running', 'completed', 'failed', 'interrupted', 'infeasible', 'pruned'];
/** Live series are thinned (every other interior point) past this many points. */
const MAX_POINTS = 1200;

export const S = {
  runs: new Map(),
  order: [],
  series: {},
  diags: new Map(),
  alerts: [],
  skew: 0,
  objective: null,
  clamp: 100,
  brush: null,
  selected: new Set(),
  sort: { col: null, asc: true },
  expanded: new Set(),
};

/** The server's clock: elapsed times agree with its timestamps. */
export function now() {
  return Date.now() / 1000 + S.skew;
}

export function diagOf(id) {
  const d = S.diags.get(id);
  return d ? d.diagnostics : null;
}

export function progressOf(r) {
  const step = r.last_step;
  const total = r.total_steps;
  const end = r.ended_at !== null && r.status !== 'running' ? r.ended_at : now();
  const elapsed = r.started_at !== null ? Math.max(0, end - r.started_at) : null;
  const eta = r.status === 'running' && step !== null && step > 0 && total ? (elapsed * (total - step)) / step : null;
  return {
    step,
    total,
    elapsed,
    eta,
    frac: step !== null && total ? Math.min(1, (step + 1) / total) : r.status === 'completed' ? 1 : 0,
  };
}

function setRun(v) {
  const known = S.runs.has(v.id);
  S.runs.set(v.id, v);
  if (known) return;
  S.order.push(v.id);
  S.order.sort((a, b) => S.runs.get(a).ordinal - S.runs.get(b).ordinal);
}

function appendPoints(p) {
  const own = S.series[p.run] || (S.series[p.run] = {});
  const s = own[p.key] || (own[p.key] = { x: [], y: [], e: [] });
  if (!s.e) s.e = s.x.map(() => null); // the snapshot omits epochs never logged
  const last = s.x.length > 0 ? s.x[s.x.length - 1] : -Infinity;
  for (let i = 0; i < p.x.length; i++) {
    if (p.x[i] <= last || typeof p.y[i] !== 'number') continue; // already have it, or NaN/Inf (an alert, not a point)
    s.x.push(p.x[i]);
    s.y.push(p.y[i]);
    s.e.push(p.e[i]);
  }
  if (s.x.length > MAX_POINTS) {
    const keep = (_v, j) => j === 0 || j === s.x.length - 1 || j % 2 === 0;
    s.x = s.x.filter(keep);
    s.y = s.y.filter(keep);
    s.e = s.e.filter(keep);
  }
}

export function applySnapshot(snap) {
  S.skew = snap.now - Date.now() / 1000;
  S.objective = snap.objective;
  S.clamp = snap.clamp;
  S.runs = new Map();
  S.order = [];
  S.diags = new Map();
  snap.runs.forEach(setRun);
  S.series = snap.series;
  snap.diags.forEach((d) => S.diags.set(d.run, d));
  S.alerts = snap.alerts;
}

export function applyDelta(d) {
  S.skew = d.now - Date.now() / 1000;
  d.resets.forEach((id) => {
    delete S.series[id];
    S.diags.delete(id);
    S.alerts = S.alerts.filter((a) => a.run !== id);
  });
  d.runs.forEach(setRun);
  d.points.forEach(appendPoints);
  d.diags.forEach((x) => S.diags.set(x.run, x));
  S.alerts = S.alerts.concat(d.alerts);
}
