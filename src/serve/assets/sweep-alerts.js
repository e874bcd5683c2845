// The alerts list (newest first) and the parallel-coordinates view of parameters against the
// objective; both redraw only when what they show changed.
import { S, diagOf } from './sweep-state.js';

const el = cs.el;
const ALERT_LABEL = {
  overfit: 'overfitting',
  'scale-dip': 'scale falling',
  'scale-rebound': 'scale rebound',
  diverged: 'diverged',
  'early-stop': 'early stop',
  pruned: 'pruned',
  failed: 'failed',
};

/** Alerts listed at first, newest first; a button lists the older ones. */
const ALERTS_SHOWN = 100;

/**
 * Alerts only arrive (a run started over drops its own): new ones are put at the top of the list
 * as it is, not the whole list rebuilt; and the list holds the newest ALERTS_SHOWN until asked
 * for all (a big sweep's first load has hundreds).
 */
export function AlertList(list, runHref) {
  /** The alerts accounted for, oldest first, and runs shown by id because they were not known yet. */
  let shown = [];
  let unnamed = new Set();
  let drawn = false;
  let limit = ALERTS_SHOWN;
  let more = null;
  const item = (a) => {
    const run = S.runs.get(a.run);
    if (!run) unnamed.add(a.run);
    return el('li', { class: a.kind, 'data-kind': a.kind, 'data-run': a.run }, [
      el('span', { class: 'kind', text: ALERT_LABEL[a.kind] || a.kind }),
      el('a', { href: runHref(a.run), text: run ? run.name : a.run }),
      ': ' + a.message,
    ]);
  };
  function render() {
    const all = S.alerts;
    let named = false;
    unnamed.forEach((id) => (named = named || S.runs.has(id)));
    const appended = drawn && !named && all.length >= shown.length && shown.every((a, i) => all[i] === a);
    if (appended && all.length === shown.length) return;
    if (!appended || shown.length === 0) {
      cs.clear(list);
      unnamed = new Set();
      shown = [];
      more = null;
    }
    drawn = true;
    if (all.length === 0) {
      list.appendChild(
        el('li', { class: 'empty', text: 'No alert: no run overfits, diverges or has a falling logit scale so far.' }),
      );
      return;
    }
    // Newest first; only those the list will hold are built.
    const fresh = document.createDocumentFragment();
    for (let i = all.length - 1; i >= Math.max(shown.length, all.length - limit); i--) fresh.appendChild(item(all[i]));
    list.insertBefore(fresh, list.firstChild);
    shown = all.slice();
    let listed = list.children.length - (more ? 1 : 0);
    for (; listed > limit; listed--) list.removeChild(more ? more.previousSibling : list.lastChild);
    const older = all.length - listed;
    if (older > 0) {
      if (!more) {
        const button = el('button', { type: 'button', id: 'alerts-older' });
        button.addEventListener('click', () => {
          limit = Infinity;
          drawn = false;
          render();
        });
        more = el('li', { class: 'more' }, [button]);
      }
      list.appendChild(more);
      more.firstChild.textContent = 'show ' + older + ' older alert' + (older === 1 ? '' : 's');
    } else if (more) {
      more.remove();
      more = null;
    }
  }
  return render;
}

/** Feeds window.ParallelCoords (pcoords.js): one axis per parameter that varies, then the objective. */
export function PcoordsView(pc) {
  let shown = '';
  return function render() {
    const runs = S.order.map((id) => S.runs.get(id));
    const names = {};
    runs.forEach((r) =>
      Object.keys(r.params).forEach((k) => (names[k] = names[k] || new Set()).add(JSON.stringify(r.params[k]))),
    );
    const dims = Object.keys(names)
      .filter((k) => names[k].size > 1)
      .sort()
      .map((k) => ({ name: k, label: k }));
    const objLabel = S.objective ? S.objective.key + ' (' + S.objective.direction + ')' : 'objective';
    dims.push({ name: '__objective', label: objLabel });
    const rows = runs.map((r) => {
      const values = Object.assign({}, r.params);
      const d = diagOf(r.id);
      values.__objective = d && d.objective !== null ? d.objective : undefined;
      return { id: r.id, color: r.color, values };
    });
    const key = JSON.stringify([dims, rows]);
    if (key === shown) return;
    shown = key;
    pc.setData(dims, rows);
  };
}
