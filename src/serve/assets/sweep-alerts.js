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

export function AlertList(list, runHref) {
  let shown = null;
  return function render() {
    const names = S.alerts.map((a) => (S.runs.get(a.run) || { name: a.run }).name);
    const key = JSON.stringify([S.alerts, names]);
    if (key === shown) return;
    shown = key;
    cs.clear(list);
    if (S.alerts.length === 0)
      list.appendChild(
        el('li', { class: 'empty', text: 'No alert: no run overfits, diverges or has a falling logit scale so far.' }),
      );
    S.alerts
      .slice()
      .reverse()
      .forEach((a) => {
        const run = S.runs.get(a.run);
        list.appendChild(
          el('li', { class: a.kind, 'data-kind': a.kind, 'data-run': a.run }, [
            el('span', { class: 'kind', text: ALERT_LABEL[a.kind] || a.kind }),
            el('a', { href: runHref(a.run), text: run ? run.name : a.run }),
            ': ' + a.message,
          ]),
        );
      });
  };
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
