// The compare view: the runs ticked in the table side by side (parameters and diagnostics, rows
// that differ marked) and the report's charts drawn for those runs only.
import { S, diagOf } from './sweep-state.js';

const el = cs.el;

/** The charts' host stays between renders, so that the board redraws only what changed. */
let chartsHost = null;

export function renderCompare(compareBox, board) {
  if (compareBox.hidden) return;
  if (!chartsHost) {
    chartsHost = el('div', { id: 'compare-charts', class: 'charts' });
    board.attach(chartsHost);
  }
  while (compareBox.firstChild) compareBox.removeChild(compareBox.firstChild);
  var runs = S.order
    .filter(function (id) {
      return S.selected.has(id);
    })
    .map(function (id) {
      return S.runs.get(id);
    });
  compareBox.appendChild(el('h2', { text: 'Compare (' + runs.length + ' selected)' }));
  if (runs.length === 0) {
    compareBox.appendChild(el('p', { class: 'empty', text: 'Tick runs in the table to compare them.' }));
    return;
  }
  var keys = Array.from(
    new Set(
      [].concat.apply(
        [],
        runs.map(function (r) {
          return Object.keys(r.params);
        }),
      ),
    ),
  ).sort();
  var facts = [
    [
      'state',
      function (r) {
        return r.status;
      },
    ],
    [
      'last step',
      function (r) {
        return r.last_step;
      },
    ],
    [
      'best val loss',
      function (r) {
        var d = diagOf(r.id);
        return d && cs.num(d.best_val_loss);
      },
    ],
    [
      'overfit onset',
      function (r) {
        var d = diagOf(r.id);
        return d && d.overfit_onset_step;
      },
    ],
    [
      'logit scale min / final',
      function (r) {
        var d = diagOf(r.id);
        return d && d.scale_min !== null ? cs.num(d.scale_min) + ' / ' + cs.num(d.scale_final) : '';
      },
    ],
    [
      'diverged',
      function (r) {
        var d = diagOf(r.id);
        return d && d.diverged ? d.divergence_kind + ' at ' + d.divergence_step : 'no';
      },
    ],
    [
      'objective',
      function (r) {
        var d = diagOf(r.id);
        return d && cs.num(d.objective);
      },
    ],
  ];
  var t = el('table', { id: 'compare-table' });
  t.appendChild(
    el('thead', null, [
      el(
        'tr',
        null,
        [el('th', { text: '' })].concat(
          runs.map(function (r) {
            return el('th', { text: r.name });
          }),
        ),
      ),
    ]),
  );
  var body = el('tbody');
  keys
    .map(function (k) {
      return [
        k,
        function (r) {
          return k in r.params ? JSON.stringify(r.params[k]) : '';
        },
      ];
    })
    .concat(facts)
    .forEach(function (row) {
      var values = runs.map(function (r) {
        var v = row[1](r);
        return v === null || v === undefined ? '' : String(v);
      });
      var differs = new Set(values).size > 1;
      body.appendChild(
        el(
          'tr',
          { class: differs ? 'diff' : '' },
          [el('td', { text: row[0] })].concat(
            values.map(function (v) {
              return el('td', { text: v });
            }),
          ),
        ),
      );
    });
  t.appendChild(body);
  compareBox.append(t, chartsHost);
  board.update(runs);
}
