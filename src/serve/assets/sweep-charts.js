// The report's charts (buildCharts of specs.js, the code behind `sweep report`), one line per
// run, kept up to date by a scheduler that spends the page's time where it shows:
// - a chart's configuration is built only when its section is on or near the screen
//   (IntersectionObserver, a screen's height ahead), and again, after its data changed, when it is next
//   there: building every chart of 200 runs at load cost 50-120 ms, and more on each delta;
// - only panels whose data changed are redrawn (a fingerprint of each panel's datasets), with
//   update('none') on the chart already there; panels on screen first, the longest waiting
//   first; a chart near the screen but not on it is drawn once, then again only when its data
//   is OFFSCREEN_MS stale and no panel on screen waits (live updates keep to what is watched);
// - the next burst of drawing may start 2x the last burst's duration after it ended, on an
//   animation frame: a cheap redraw follows its data within a frame or two, an expensive one
//   leaves the page two thirds of the time for everything else;
// - a burst stops after BURST_MS, so that the table and the first chart show before the rest.
import { S, diagOf } from './sweep-state.js';

const el = cs.el;
const BURST_MS = 40;
const PAUSE_FACTOR = 2;
/**
 * How near the screen a chart's section must come for its configuration to be built and drawn,
 * in screen heights: the first charts below the runs table are drawn at load, ready when the
 * user scrolls to them; those further down wait.
 */
const NEAR_SCREENS = 1;
/** A chart near the screen but not on it is built and drawn again once its data is this stale. */
const OFFSCREEN_MS = 3000;

/** x of each point in the chosen unit: step, epoch (interpolated from logged epochs) or samples. */
function xMapper(r, unit) {
  if (unit === 'samples') {
    const b = Number(r.params.batch_size) || 1;
    return (s) => s * b;
  }
  if (unit === 'epoch') {
    const own = S.series[r.id] || {};
    const ref = own['train/loss'] || own['lr'];
    const xs = [];
    const es = [];
    if (ref && ref.e)
      for (let i = 0; i < ref.x.length; i++)
        if (ref.e[i] !== null && ref.e[i] !== undefined) {
          xs.push(ref.x[i]);
          es.push(ref.e[i]);
        }
    return (s) => {
      if (xs.length === 0) return null;
      if (xs.length === 1) return (es[0] * s) / Math.max(1, xs[0]);
      let j = 1;
      while (j < xs.length - 1 && xs[j] < s) j++;
      const a = j - 1;
      return es[a] + ((es[j] - es[a]) * (s - xs[a])) / (xs[j] - xs[a] || 1);
    };
  }
  return (s) => s;
}

function convert(series, f) {
  const x = [];
  const y = [];
  for (let i = 0; i < series.x.length; i++) {
    const v = f(series.x[i]);
    if (v !== null && isFinite(v)) {
      x.push(v);
      y.push(series.y[i]);
    }
  }
  return { x, y };
}

function chartInput(runs, unit) {
  return {
    clamp: S.clamp,
    maxPanels: 12,
    maxLegend: 24,
    configs: runs.map((r) => {
      const f = xMapper(r, unit);
      const series = {};
      const own = S.series[r.id] || {};
      // Steps need no mapping: the series go as they are (they hold finite points only).
      const map = unit === 'step' ? (s) => s : (s) => convert(s, f);
      Object.keys(own).forEach((k) => (series[k] = map(own[k])));
      const d = diagOf(r.id);
      const diag = S.diags.get(r.id);
      if (diag && diag.gap.x.length > 0) series.gap = map(diag.gap);
      const at = (s) => (s === null || s === undefined ? null : f(s));
      return {
        id: r.id,
        name: r.name + (r.status === 'pruned' ? ' (pruned)' : ''),
        rank: null,
        color: r.color,
        dash: r.dash,
        params: r.params,
        series,
        best_step: d ? at(d.best_val_step) : null,
        best_val: d ? d.best_val_loss : null,
        onset: d ? at(d.overfit_onset_step) : null,
        retrieval_best: d ? d.retrieval_at_best : {},
        retrieval_final: d ? d.retrieval_final : {},
      };
    }),
  };
}

/**
 * Chart.js's numeric tick labels without Intl: a page's first Intl.NumberFormat costs 55-200 ms
 * here (ICU loading its locale data), on the first chart's critical path. Hand-written: the same
 * digits as Chart.js's default (decimals from the tick spacing), English digit grouping;
 * exponential notation where Chart.js would use scientific (all ticks below 1e-4 or above 1e15).
 */
function plainTick(value, _index, ticks) {
  if (value === 0) return '0';
  let delta = value;
  let scientific = false;
  if (ticks.length > 1) {
    const max = Math.max(Math.abs(ticks[0].value), Math.abs(ticks[ticks.length - 1].value));
    scientific = max < 1e-4 || max > 1e15;
    delta = ticks.length > 3 ? ticks[2].value - ticks[1].value : ticks[1].value - ticks[0].value;
    if (Math.abs(delta) >= 1 && value !== Math.floor(value)) delta = value - Math.floor(value);
  }
  const log = Math.log10(Math.abs(delta));
  const decimals = isNaN(log) ? 1 : Math.max(Math.min(-Math.floor(log), 20), 0);
  if (scientific) return value.toExponential(Math.min(decimals, 2));
  const [whole, frac] = Math.abs(value).toFixed(decimals).split('.');
  return (value < 0 ? '-' : '') + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? '.' + frac : '');
}

/** Linear axes without a tick callback of their own get plainTick. */
function plainTicks(config) {
  const scales = (config.options && config.options.scales) || {};
  Object.keys(scales).forEach((id) => {
    const scale = scales[id];
    const linear = scale.type === 'linear' || (!scale.type && config.type === 'bar' && id === 'y');
    if (linear && !(scale.ticks && scale.ticks.callback))
      scale.ticks = Object.assign({}, scale.ticks, { callback: plainTick });
  });
}

function pointCount(config) {
  return (config.data.datasets || []).reduce((n, d) => n + (d.data ? d.data.length : 0), 0);
}

/** Cheap and good enough: what a panel shows changes its datasets' sizes, ends or labels. */
function fingerprint(config, unit) {
  const parts = [unit, config.type, JSON.stringify(config.data.labels || null)];
  for (const d of config.data.datasets || []) {
    const data = d.data || [];
    const end = (p) => (p === undefined ? '' : typeof p === 'object' && p !== null ? p.x + ',' + p.y : String(p));
    parts.push(d.label, d.borderColor, data.length, end(data[0]), end(data[data.length - 1]));
    if (config.type === 'bar') parts.push(data.join(','));
  }
  const title = config.options && config.options.plugins && config.options.plugins.title;
  parts.push(title ? title.text : '');
  return parts.join('|');
}

function destroy(canvas) {
  const chart = canvas && Chart.getChart(canvas);
  if (chart) chart.destroy();
}

/** Charts in `host`, redrawn by the scheduler above. `unit()`: the x axis' unit. */
export function ChartBoard(unit) {
  let host = null;
  /**
   * chart id -> { section, boxes, canvases, labels, drawn: [fingerprint], pending: [{config, fp,
   * since}], visible, stale: time its data changed since its last build (null: built), empty:
   * its last build found no data }
   */
  const slots = new Map();
  /** The runs and x unit of the last update, and the chart input built from them (lazily). */
  let current = null;
  let lastBurst = 0;
  let lastEnd = 0;
  let timer = null;
  let frame = 0;
  // Two observers: sections near the screen (built and drawn ahead of the user), and those on it
  // (drawn first, at every change).
  const watch = (flag, margin) =>
    'IntersectionObserver' in window
      ? new IntersectionObserver(
          (entries) => {
            for (const e of entries) {
              const slot = slots.get(e.target.getAttribute('data-chart'));
              if (slot) slot[flag] = e.isIntersecting;
            }
            schedule();
          },
          { rootMargin: margin },
        )
      : null;
  const observer = watch('visible', NEAR_SCREENS * 100 + '% 0px');
  const onScreen = watch('shown', '0px');
  /** Set while only charts off screen wait, until the oldest is due. */
  let idle = null;
  // Chart.js's own responsive sizing reads computed styles and sizes on every chart it creates;
  // with a 200-row table on the page each read forced a layout of the whole page (a third of
  // the first load's main-thread time). Charts are created at their box's size, measured for
  // every new panel of a burst in one read, and resized by one observer afterwards.
  const boxSize = new WeakMap();
  const resizer =
    'ResizeObserver' in window
      ? new ResizeObserver((entries) => {
          for (const e of entries) {
            const { width, height } = e.contentRect;
            const last = boxSize.get(e.target);
            if (last && last.width === width && last.height === height) continue;
            boxSize.set(e.target, { width, height });
            const chart = Chart.getChart(e.target.firstChild);
            if (chart && width > 0 && height > 0) chart.resize(width, height);
          }
        })
      : null;

  function release(slot) {
    slot.canvases.forEach(destroy);
    if (resizer) slot.boxes.forEach((box) => resizer.unobserve(box));
  }

  /**
   * One section per chart the report can draw, in its order, empty until the chart is built: a
   * section far from the screen keeps its place (and the page its length) without its cost.
   */
  function attach(newHost) {
    slots.forEach((slot) => {
      release(slot);
      if (observer) observer.unobserve(slot.section);
      if (onScreen) onScreen.unobserve(slot.section);
    });
    slots.clear();
    host = newHost;
    CHART_IDS.forEach((id) => {
      const section = el('section', { class: 'chart unbuilt', 'data-chart': id }, [
        el('h3'),
        el('p', { class: 'note' }),
        el('div', { class: 'single' }),
      ]);
      host.appendChild(section);
      // Off screen until the observer says otherwise (asking now would force a layout).
      slots.set(id, {
        section,
        boxes: [],
        canvases: [],
        labels: [],
        drawn: [],
        pending: [],
        visible: !observer,
        shown: !onScreen,
        stale: null,
        empty: false,
      });
      if (observer) observer.observe(section);
      if (onScreen) onScreen.observe(section);
    });
  }

  /** The slot's panels laid out for `def` (a new body when the number of panels changed). */
  function layout(slot, def) {
    slot.section.classList.remove('unbuilt');
    slot.section.hidden = false;
    if (slot.canvases.length === def.panels.length && slot.boxes.length > 0) return;
    release(slot);
    const body = el('div', { class: def.panels.length > 1 ? 'panels' : 'single' });
    // The canvas itself comes with the panel's first drawing: a canvas on the page is a chart.
    slot.boxes = def.panels.map(() => body.appendChild(el('div', { class: 'canvas-box' })));
    slot.canvases = def.panels.map(() => null);
    slot.drawn = [];
    slot.pending = [];
    slot.section.replaceChild(body, slot.section.lastChild);
  }

  /** New data for `runs`: every chart is built again when next on or near the screen. */
  function update(runs) {
    if (!host) return;
    current = { runs, unit: unit(), input: null };
    const at = performance.now();
    slots.forEach((slot) => {
      if (slot.stale === null) slot.stale = at;
    });
    // Called from a frame already (the page's flush): draw now if the pause is over.
    if (timer === null && frame === 0 && performance.now() >= lastEnd + PAUSE_FACTOR * lastBurst) burst();
    else schedule();
  }

  /**
   * Builds the configurations of the stale charts on or near the screen (one buildCharts call),
   * and of those whose last build had no data (cheap while they still have none; hidden, they
   * cannot come near the screen to find out); marks the panels whose data changed.
   */
  function build() {
    const ids = [];
    const screen = window.innerHeight;
    const near = screen * NEAR_SCREENS;
    const now = performance.now();
    slots.forEach((slot, id) => {
      if (!due(slot, now)) return;
      // The observer reports a frame late: the page that just filled its table has pushed
      // sections it still calls near far down. The boxes of sections never built are read now
      // (one layout, which the new panels' sizes read next needs anyway); later, a frame late
      // costs one needless build at most.
      if (slot.visible && !slot.empty && observer && slot.boxes.length === 0) {
        const r = slot.section.getBoundingClientRect();
        if (r.bottom < -near || r.top > screen + near) {
          slot.visible = false;
          return;
        }
      }
      ids.push(id);
    });
    if (ids.length === 0 || !current) return;
    const xUnit = current.unit;
    current.input = current.input || chartInput(current.runs, xUnit);
    const defs = new Map(buildCharts(current.input, ids).map((d) => [d.id, d]));
    for (const id of ids) {
      const slot = slots.get(id);
      const since = slot.stale;
      slot.stale = null;
      const def = defs.get(id);
      slot.empty = !def;
      if (!def) {
        release(slot);
        slot.boxes = [];
        slot.canvases = [];
        slot.drawn = [];
        slot.pending = [];
        slot.section.hidden = true;
        continue;
      }
      layout(slot, def);
      const h3 = slot.section.querySelector('h3');
      if (h3.textContent !== def.title) h3.textContent = def.title;
      const note = slot.section.querySelector('.note');
      if (note.textContent !== def.note) note.textContent = def.note;
      def.panels.forEach((panel, i) => {
        const config = panel.config;
        config.options = Object.assign({}, config.options, {
          responsive: !resizer,
          maintainAspectRatio: false,
          animation: false,
        });
        if (config.type === 'line' && config.options.scales && config.options.scales.x)
          config.options.scales.x.title = { display: true, text: xUnit };
        plainTicks(config);
        slot.labels[i] = def.title + (panel.title ? ': ' + panel.title : '');
        const fp = fingerprint(config, xUnit);
        if (slot.drawn[i] === fp) slot.pending[i] = null;
        else slot.pending[i] = { config, fp, since: slot.pending[i] ? slot.pending[i].since : since };
      });
    }
  }

  /**
   * Whether the chart is to be built now: stale, and on screen; or near it and never built, or
   * stale for OFFSCREEN_MS; or empty at its last build (cheap while it has no data; hidden, it
   * cannot come near the screen to find out).
   */
  function due(slot, now) {
    if (slot.stale === null) return false;
    if (slot.shown || slot.empty) return true;
    return slot.visible && (slot.boxes.length === 0 || now - slot.stale >= OFFSCREEN_MS);
  }

  /**
   * The next panel to draw: of those on screen, the one waiting longest (page order among
   * equals), so that cheap panels redrawn at every delta never starve the others; once none
   * waits, one near the screen that was never drawn or has waited OFFSCREEN_MS.
   */
  function nextPanel(now) {
    let best = null;
    let late = null;
    for (const slot of slots.values()) {
      if (!slot.visible && !slot.shown) continue;
      for (let i = 0; i < slot.pending.length; i++) {
        const p = slot.pending[i];
        if (!p) continue;
        if (slot.shown) {
          if (!best || p.since < best.since) best = { slot, i, since: p.since };
        } else if (!late && (slot.drawn[i] === undefined || now - p.since >= OFFSCREEN_MS)) late = { slot, i };
      }
    }
    return best || late;
  }

  /** Work now (`due`), or later: charts near the screen whose data is not stale enough yet. */
  function work(now) {
    let later = false;
    for (const slot of slots.values()) {
      if (due(slot, now)) return 'now';
      if (slot.stale !== null && slot.visible) later = true;
      if (!slot.visible && !slot.shown) continue;
      for (let i = 0; i < slot.pending.length; i++) {
        const p = slot.pending[i];
        if (!p) continue;
        if (slot.shown || slot.drawn[i] === undefined || now - p.since >= OFFSCREEN_MS) return 'now';
        later = true;
      }
    }
    return later ? 'later' : null;
  }

  function schedule() {
    if (idle !== null) {
      clearTimeout(idle);
      idle = null;
    }
    if (timer !== null || frame !== 0) return;
    const next = work(performance.now());
    if (next === 'later') {
      // Only charts off screen wait: look again when the oldest may be due.
      idle = setTimeout(() => {
        idle = null;
        schedule();
      }, OFFSCREEN_MS / 2);
      return;
    }
    if (next === null) return;
    const wait = lastEnd + PAUSE_FACTOR * lastBurst - performance.now();
    if (wait <= 0) {
      frame = requestAnimationFrame(burst);
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      frame = requestAnimationFrame(burst);
    }, wait);
  }

  /** Sizes of the boxes of panels about to get their first canvas, read together (one layout). */
  function measureNewBoxes() {
    if (!resizer) return;
    for (const slot of slots.values())
      if (slot.visible || slot.shown)
        slot.boxes.forEach((box, i) => {
          if (slot.pending[i] && !slot.canvases[i] && !boxSize.has(box)) {
            const r = box.getBoundingClientRect();
            boxSize.set(box, { width: r.width, height: r.height });
          }
        });
  }

  function burst() {
    frame = 0;
    const start = performance.now();
    build();
    measureNewBoxes();
    for (;;) {
      const next = nextPanel(performance.now());
      if (!next) break;
      drawPanel(next.slot, next.i);
      if (performance.now() - start > BURST_MS) break;
    }
    lastEnd = performance.now();
    lastBurst = lastEnd - start;
    schedule();
  }

  function drawPanel(slot, i) {
    const { config, fp } = slot.pending[i];
    slot.pending[i] = null;
    slot.drawn[i] = fp;
    let canvas = slot.canvases[i];
    if (!canvas) {
      canvas = slot.canvases[i] = el('canvas', { 'data-panel': String(i) });
      const size = boxSize.get(slot.boxes[i]);
      if (resizer && size) {
        canvas.width = Math.max(1, Math.round(size.width));
        canvas.height = Math.max(1, Math.round(size.height));
      }
      slot.boxes[i].appendChild(canvas);
      if (resizer) resizer.observe(slot.boxes[i]);
    }
    if (canvas.getAttribute('aria-label') !== slot.labels[i]) canvas.setAttribute('aria-label', slot.labels[i]);
    canvas.setAttribute('data-points', String(pointCount(config)));
    const chart = Chart.getChart(canvas);
    if (chart) {
      chart.data = config.data;
      chart.options = config.options;
      chart.update('none');
    } else new Chart(canvas, config);
  }

  return { attach, update };
}
