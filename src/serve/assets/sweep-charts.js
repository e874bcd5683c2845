// The report's charts (buildCharts of specs.js, the code behind `sweep report`), one line per
// run, kept up to date by a scheduler that spends the page's time where it shows:
// - only panels whose data changed are redrawn (a fingerprint of each panel's datasets), with
//   update('none') on the chart already there;
// - panels on screen first (IntersectionObserver), the longest waiting first; a panel off screen
//   waits until it scrolls into view, or OFFSCREEN_MS, so that hidden charts cost little;
// - the next burst of drawing may start 2x the last burst's duration after it ended, on an
//   animation frame: a cheap redraw follows its data within a frame or two, an expensive one
//   leaves the page two thirds of the time for everything else;
// - a burst stops after BURST_MS, so that the table and the first chart show before the rest.
import { S, diagOf } from './sweep-state.js';

const el = cs.el;
const BURST_MS = 40;
const OFFSCREEN_MS = 3000;
const PAUSE_FACTOR = 2;

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
  /** chart id -> { section, canvases, drawn: [fingerprint], pending: [{config, fp, since}], visible } */
  const slots = new Map();
  let lastBurst = 0;
  let lastEnd = 0;
  let timer = null;
  /** Set while only off-screen panels wait: a panel scrolling into view cancels it. */
  let idle = null;
  let frame = 0;
  const observer =
    'IntersectionObserver' in window
      ? new IntersectionObserver(
          (entries) => {
            for (const e of entries) {
              const slot = slots.get(e.target.getAttribute('data-chart'));
              if (slot) slot.visible = e.isIntersecting;
            }
            schedule();
          },
          { rootMargin: '200px 0px' },
        )
      : null;
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

  function attach(newHost) {
    slots.forEach((slot) => {
      release(slot);
      if (observer) observer.unobserve(slot.section);
    });
    slots.clear();
    host = newHost;
  }

  function sectionFor(def) {
    let slot = slots.get(def.id);
    if (slot && slot.canvases.length === def.panels.length) return slot;
    const section = el('section', { class: 'chart', 'data-chart': def.id }, [
      el('h3'),
      el('p', { class: 'note' }),
      el('div', { class: def.panels.length > 1 ? 'panels' : 'single' }),
    ]);
    // The canvas itself comes with the panel's first drawing: a canvas on the page is a chart.
    const boxes = def.panels.map(() => section.lastChild.appendChild(el('div', { class: 'canvas-box' })));
    const canvases = def.panels.map(() => null);
    if (slot) {
      release(slot);
      if (observer) observer.unobserve(slot.section);
      host.replaceChild(section, slot.section);
    } else host.appendChild(section);
    // Off screen until the observer says otherwise (asking now would force a layout); a panel
    // never drawn is drawn anyway, in page order, after the visible ones.
    slot = { section, boxes, canvases, labels: [], drawn: [], pending: [], visible: !observer };
    slots.set(def.id, slot);
    if (observer) observer.observe(section);
    return slot;
  }

  /** Builds every chart's configuration for `runs`; marks the panels whose data changed. */
  function update(runs) {
    if (!host) return;
    const xUnit = unit();
    const defs = buildCharts(chartInput(runs, xUnit));
    const seen = new Set(defs.map((d) => d.id));
    slots.forEach((slot, id) => {
      if (seen.has(id)) return;
      release(slot);
      if (observer) observer.unobserve(slot.section);
      slot.section.remove();
      slots.delete(id);
    });
    const at = performance.now();
    defs.forEach((def, order) => {
      const slot = sectionFor(def);
      if (host.children[order] !== slot.section) host.insertBefore(slot.section, host.children[order] || null);
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
        slot.labels[i] = def.title + (panel.title ? ': ' + panel.title : '');
        const fp = fingerprint(config, xUnit);
        if (slot.drawn[i] === fp) slot.pending[i] = null;
        else slot.pending[i] = { config, fp, since: slot.pending[i] ? slot.pending[i].since : at };
      });
    });
    // Called from a frame already (the page's flush): draw now if the pause is over.
    if (timer === null && frame === 0 && performance.now() >= lastEnd + PAUSE_FACTOR * lastBurst) burst();
    else schedule();
  }

  /**
   * The next panel to draw: of those on screen, the one waiting longest (page order among
   * equals), so that cheap panels redrawn at every delta never starve the others; off screen,
   * one never drawn (first load) or stale for OFFSCREEN_MS, once no visible panel waits.
   */
  function nextPanel(now) {
    let best = null;
    let late = null;
    for (const slot of slots.values()) {
      for (let i = 0; i < slot.pending.length; i++) {
        const p = slot.pending[i];
        if (!p) continue;
        if (slot.visible) {
          if (!best || p.since < best.since) best = { slot, i, since: p.since };
        } else if (!late && (slot.drawn[i] === undefined || now - p.since >= OFFSCREEN_MS)) late = { slot, i };
      }
    }
    return best || late;
  }

  function hasWork() {
    for (const slot of slots.values()) if (slot.pending.some(Boolean)) return true;
    return false;
  }

  function schedule() {
    if (idle !== null) {
      clearTimeout(idle);
      idle = null;
    }
    if (timer !== null || frame !== 0 || !hasWork()) return;
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
    measureNewBoxes();
    let drew = false;
    for (;;) {
      const next = nextPanel(performance.now());
      if (!next) break;
      drawPanel(next.slot, next.i);
      drew = true;
      if (performance.now() - start > BURST_MS) break;
    }
    if (drew) {
      lastEnd = performance.now();
      lastBurst = lastEnd - start;
      schedule();
    } else if (hasWork()) {
      // Only off-screen panels wait: look again when the oldest is due.
      idle = setTimeout(() => {
        idle = null;
        schedule();
      }, OFFSCREEN_MS / 2);
    }
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
