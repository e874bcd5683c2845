// The runs table: sortable, filterable, windowed. Only the rows in or near the table's scroll box
// are in the DOM (a spacer row above and below stands for the others): a 200-run sweep built
// 9,000 cells at load, most of them never seen. Sort and filter act on every run; a row entering
// the window is brought up to date then. Rows are kept between renders and a cell is rebuilt only
// when what it shows changed: a delta of 100 running runs, or the clock ticking their elapsed
// time, must not rebuild the rows x 13 cells each time.
import { S, STATES, diagOf, progressOf } from './sweep-state.js';

const el = cs.el;

/** Each column: `key(r)` is what the cell shows, as a string; `cell(r)` builds it. */
function columns(ctx) {
  const numCell = (text) => el('td', { class: 'num', text });
  const diagNum = (r, pick) => {
    const d = diagOf(r.id);
    return d ? cs.num(pick(d)) : '';
  };
  return [
    {
      id: 'select',
      label: '',
      sort: null,
      key: (r) => (S.selected.has(r.id) ? '1' : '0') + r.name,
      cell: (r) => {
        const box = el('input', { type: 'checkbox', 'aria-label': 'select ' + r.name, 'data-run': r.id });
        box.checked = S.selected.has(r.id);
        box.addEventListener('change', () => {
          if (box.checked) S.selected.add(r.id);
          else S.selected.delete(r.id);
          ctx.onSelect();
        });
        return el('td', null, [box]);
      },
    },
    {
      id: 'name',
      label: 'run',
      sort: (r) => r.name,
      key: (r) => r.name + '\u0000' + r.color,
      cell: (r) => {
        const swatch = el('span', { class: 'swatch', 'data-color': r.color });
        swatch.style.background = r.color;
        return el('td', { class: 'name' }, [swatch, el('a', { href: ctx.runHref(r.id), text: r.name })]);
      },
    },
    {
      id: 'state',
      label: 'state',
      sort: (r) => r.status,
      key: (r) => r.status,
      cell: (r) => el('td', null, [cs.stateBadge(r.status)]),
    },
    {
      id: 'attempt',
      label: 'attempt',
      sort: (r) => r.attempt,
      key: (r) => String(r.attempt),
      cell: (r) => numCell(String(r.attempt)),
    },
    {
      id: 'slot',
      label: 'slot / GPU',
      sort: (r) => r.slot || '',
      key: (r) => (r.slot || '') + (r.gpu !== null ? ' (GPU ' + r.gpu + ')' : ''),
      cell: (r) => el('td', { text: (r.slot || '') + (r.gpu !== null ? ' (GPU ' + r.gpu + ')' : '') }),
    },
    {
      id: 'progress',
      label: 'progress',
      sort: (r) => progressOf(r).frac,
      key: (r) => {
        const p = progressOf(r);
        return Math.round(p.frac * 100) + '|' + p.step + '|' + p.total;
      },
      cell: (r) => {
        const p = progressOf(r);
        const bar = el('span', { class: 'bar' }, [el('span')]);
        bar.firstChild.style.width = Math.round(p.frac * 100) + '%';
        return el('td', { class: 'progress' }, [
          bar,
          (p.step !== null ? p.step : '-') + (p.total ? ' / ' + p.total : ''),
        ]);
      },
    },
    {
      id: 'elapsed',
      label: 'elapsed',
      sort: (r) => progressOf(r).elapsed,
      key: (r) => cs.duration(progressOf(r).elapsed),
      cell: (r) => numCell(cs.duration(progressOf(r).elapsed)),
    },
    {
      id: 'eta',
      label: 'ETA',
      sort: (r) => progressOf(r).eta,
      key: (r) => cs.duration(progressOf(r).eta),
      cell: (r) => numCell(cs.duration(progressOf(r).eta)),
    },
    {
      id: 'train',
      label: 'train loss',
      sort: (r) => r.latest['train/loss'],
      key: (r) => cs.num(r.latest['train/loss']),
      cell: (r) => numCell(cs.num(r.latest['train/loss'])),
    },
    {
      id: 'bestval',
      label: 'best val loss',
      sort: (r) => {
        const d = diagOf(r.id);
        return d && d.best_val_loss;
      },
      key: (r) => diagNum(r, (d) => d.best_val_loss),
      cell: (r) => numCell(diagNum(r, (d) => d.best_val_loss)),
    },
    {
      id: 'scale',
      label: 'logit scale',
      sort: (r) => r.latest['logit_scale'],
      key: (r) => cs.num(r.latest['logit_scale']),
      cell: (r) => numCell(cs.num(r.latest['logit_scale'])),
    },
    {
      id: 'objective',
      label: 'objective',
      sort: (r) => {
        const d = diagOf(r.id);
        return d && d.objective;
      },
      key: (r) => diagNum(r, (d) => d.objective),
      cell: (r) => numCell(diagNum(r, (d) => d.objective)),
    },
    {
      id: 'failure',
      label: 'failure',
      sort: (r) => r.reason || '',
      key: (r) => [r.status, r.failure_kind, r.reason, S.expanded.has(r.id)].join('\u0000'),
      cell: (r) => {
        const td = el('td', { class: 'failure' });
        if (r.status === 'failed' || r.status === 'interrupted' || r.status === 'infeasible' || r.reason) {
          const text = [r.failure_kind, r.reason].filter(Boolean).join(': ');
          // One line per row (the window needs one row height): the whole reason on hover.
          td.appendChild(el('span', { class: 'reason', text, title: text }));
          const b = el('button', {
            type: 'button',
            class: 'stderr-btn',
            'data-run': r.id,
            text: S.expanded.has(r.id) ? 'hide stderr' : 'stderr',
          });
          b.addEventListener('click', () => {
            if (S.expanded.has(r.id)) S.expanded.delete(r.id);
            else S.expanded.add(r.id);
            ctx.render();
          });
          td.append(' ', b);
        }
        return td;
      },
    },
  ];
}

/** Rows drawn beyond each edge of the scroll box, so that scrolling shows rows already built. */
const OVERSCAN_PX = 600;
/** Row heights until a drawn row is measured (the stylesheet fixes both). */
const ROW_PX = 29;
const STDERR_PX = 262;
/** Kept rows beyond this many are dropped when out of the window (a sweep of thousands of runs). */
const KEEP_ROWS = 400;

/**
 * ctx: { table, box (the table's scroll box), counts, runHref(id), fetchStderr(id) -> Promise<string>,
 * onSelect(), render() }. Returns { renderHead(), render(runs) }; `render` gets the runs that pass
 * the filters, in any order.
 */
export function RunsTable(ctx) {
  const COLUMNS = columns(ctx);
  const thead = el('thead');
  const tbody = el('tbody');
  ctx.table.append(thead, tbody);
  /** run id -> { tr, keys: cell keys as last drawn, status } */
  const rows = new Map();
  const stderrRows = new Map();
  const stderrCache = {};
  let empty = null;
  const spacer = () => {
    const td = el('td', { colspan: COLUMNS.length });
    return { tr: el('tr', { class: 'spacer', 'aria-hidden': 'true' }, [td]), td, px: -1 };
  };
  const above = spacer();
  const below = spacer();
  /** The filtered, sorted runs, each with its stderr row when expanded: what the window cuts. */
  let entries = [];
  let rowPx = ROW_PX;
  let stderrPx = STDERR_PX;
  // The window follows the scroll box's scroll events and its size (read from observers and
  // events, never forced from the layout while the page builds).
  let scrollTop = 0;
  let viewPx = window.innerHeight;
  let windowKey = '';
  let frame = 0;
  ctx.box.addEventListener(
    'scroll',
    () => {
      scrollTop = ctx.box.scrollTop;
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          paint(false);
        });
    },
    { passive: true },
  );
  // A drawn row's real height replaces the estimate (fonts and zoom differ).
  const sizes =
    'ResizeObserver' in window
      ? new ResizeObserver((list) => {
          let changed = false;
          for (const e of list) {
            const h = e.borderBoxSize && e.borderBoxSize[0] ? e.borderBoxSize[0].blockSize : e.contentRect.height;
            if (e.target === ctx.box) {
              if (h > 0 && h !== viewPx) viewPx = h;
              continue;
            }
            if (!(h > 0)) continue;
            if (e.target.classList.contains('stderr-row')) {
              if (Math.abs(h - stderrPx) > 0.5) ((stderrPx = h), (changed = true));
            } else if (Math.abs(h - rowPx) > 0.5) ((rowPx = h), (changed = true));
            sizes.unobserve(e.target);
          }
          if (changed) paint(true);
        })
      : null;
  if (sizes) sizes.observe(ctx.box);
  let measuredRow = false;
  let measuredStderr = false;

  function renderHead() {
    cs.clear(thead);
    thead.appendChild(
      el(
        'tr',
        null,
        COLUMNS.map((c) => {
          const th = el('th', { text: c.label, 'data-col': c.id });
          if (S.sort.col === c.id) th.setAttribute('aria-sort', S.sort.asc ? 'ascending' : 'descending');
          if (c.sort)
            th.addEventListener('click', () => {
              S.sort = { col: c.id, asc: S.sort.col === c.id ? !S.sort.asc : true };
              renderHead();
              ctx.render();
            });
          return th;
        }),
      ),
    );
  }

  function sorted(runs) {
    const col = COLUMNS.find((c) => c.id === S.sort.col);
    if (!col) return runs;
    return runs.slice().sort((a, b) => {
      const x = col.sort(a);
      const y = col.sort(b);
      const xe = x === null || x === undefined || x === '';
      const ye = y === null || y === undefined || y === '';
      if (xe || ye) return xe === ye ? 0 : xe ? 1 : -1; // empty always last
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return S.sort.asc ? c : -c;
    });
  }

  /** The run's row, its changed cells rebuilt in place. */
  function rowOf(r) {
    let row = rows.get(r.id);
    if (!row) {
      row = { tr: el('tr', { 'data-run': r.id }), keys: [] };
      COLUMNS.forEach(() => row.tr.appendChild(el('td')));
      rows.set(r.id, row);
      if (sizes && !measuredRow) {
        measuredRow = true;
        sizes.observe(row.tr);
      }
    }
    if (row.tr.getAttribute('data-state') !== r.status) row.tr.setAttribute('data-state', r.status);
    COLUMNS.forEach((c, i) => {
      const key = c.key(r);
      if (row.keys[i] === key) return;
      row.keys[i] = key;
      row.tr.replaceChild(c.cell(r), row.tr.children[i]);
    });
    return row.tr;
  }

  function stderrRowOf(r) {
    const text = stderrCache[r.id] !== undefined ? stderrCache[r.id] : 'loading…';
    let row = stderrRows.get(r.id);
    if (!row) {
      const pre = el('pre', { class: 'stderr', 'data-run': r.id });
      row = el('tr', { class: 'stderr-row' }, [el('td', { colspan: COLUMNS.length }, [pre])]);
      stderrRows.set(r.id, row);
      if (sizes && !measuredStderr) {
        measuredStderr = true;
        sizes.observe(row);
      }
    }
    const pre = row.querySelector('pre');
    if (pre.textContent !== text) pre.textContent = text;
    if (stderrCache[r.id] === undefined) {
      stderrCache[r.id] = 'loading…';
      ctx.fetchStderr(r.id).then(
        (tail) => {
          stderrCache[r.id] = tail;
          ctx.render();
        },
        (e) => {
          stderrCache[r.id] = 'error: ' + e.message;
          ctx.render();
        },
      );
    }
    return row;
  }

  /**
   * Puts the entries in or near the scroll box's view in the DOM, between the spacers.
   * `changed`: the entries or their contents changed (otherwise only a scroll: nothing to do
   * while the same rows stay in the window).
   */
  function paint(changed) {
    const from = scrollTop - OVERSCAN_PX;
    const to = scrollTop + viewPx + OVERSCAN_PX;
    let y = 0;
    let first = -1;
    let last = -1;
    let top = 0;
    for (let i = 0; i < entries.length; i++) {
      const h = entries[i].stderr ? stderrPx : rowPx;
      if (y + h > from && y < to) {
        if (first < 0) ((first = i), (top = y));
        last = i;
      } else if (y >= to) break;
      y += h;
    }
    let total = 0;
    for (const e of entries) total += e.stderr ? stderrPx : rowPx;
    const key = first + ':' + last;
    if (!changed && key === windowKey) return;
    windowKey = key;
    const wanted = [];
    const kept = new Set();
    if (first >= 0)
      for (let i = first; i <= last; i++) {
        const e = entries[i];
        kept.add(e.run.id);
        wanted.push(e.stderr ? stderrRowOf(e.run) : rowOf(e.run));
      }
    let bottom = total - top;
    if (first >= 0) for (let i = first; i <= last; i++) bottom -= entries[i].stderr ? stderrPx : rowPx;
    if (entries.length === 0) {
      empty = empty || el('tr', null, [el('td', { colspan: COLUMNS.length, class: 'empty', text: 'No run matches.' })]);
      wanted.push(empty);
    }
    setSpacer(above, top);
    setSpacer(below, Math.max(0, bottom));
    wanted.unshift(above.tr);
    wanted.push(below.tr);
    // Move only what is out of place, then drop what is no longer shown.
    wanted.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    while (tbody.children.length > wanted.length) tbody.removeChild(tbody.lastChild);
    if (rows.size > KEEP_ROWS) for (const id of rows.keys()) if (!kept.has(id)) rows.delete(id);
    ctx.table.setAttribute('data-window', first < 0 ? '' : first + '-' + last);
  }

  function setSpacer(s, px) {
    if (s.px === px) return;
    s.px = px;
    s.td.style.height = px + 'px';
    s.tr.hidden = px === 0;
  }

  function render(visible) {
    const runs = sorted(visible);
    entries = [];
    runs.forEach((r) => {
      entries.push({ run: r, stderr: false });
      if (S.expanded.has(r.id)) entries.push({ run: r, stderr: true });
    });
    ctx.table.setAttribute('data-rows', String(runs.length));
    paint(true);
    const n = {};
    S.runs.forEach((r) => (n[r.status] = (n[r.status] || 0) + 1));
    const text =
      STATES.filter((s) => n[s])
        .map((s) => n[s] + ' ' + s)
        .join(' · ') +
      ' — showing ' +
      runs.length +
      ' of ' +
      S.runs.size +
      (S.objective ? ' — objective: ' + S.objective.direction + ' ' + S.objective.key : '');
    if (ctx.counts.textContent !== text) ctx.counts.textContent = text;
  }

  return { renderHead, render, columnCount: COLUMNS.length };
}
