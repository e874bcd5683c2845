// Heatmaps of the objective and the final generalisation gap over learning rate x batch size
// (one pair per warmup): the mean over the runs shown of each cell, yellow is better, as in the
// report. Computed in the page from the runs that pass the filters.
import { S, diagOf } from './sweep-state.js';

const el = cs.el;

/** Dark blue (0) to yellow (1): the report's direction, yellow is better. */
function heatColor(t) {
  var stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  var x = Math.max(0, Math.min(1, t)) * (stops.length - 1),
    i = Math.min(stops.length - 2, Math.floor(x)),
    f = x - i;
  return (
    'rgb(' +
    stops[i]
      .map(function (c, k) {
        return Math.round(c + (stops[i + 1][k] - c) * f);
      })
      .join(',') +
    ')'
  );
}
let heatKey = '';
/** One table per warmup (and per measure): mean over the runs of each lr x batch_size cell. */
export function renderHeatmaps(heatBox, runs) {
  var isNum = function (v) {
    return typeof v === 'number' && isFinite(v);
  };
  var usable = runs.filter(function (r) {
    return isNum(r.params.lr) && isNum(r.params.batch_size);
  });
  var lrs = Array.from(
    new Set(
      usable.map(function (r) {
        return r.params.lr;
      }),
    ),
  ).sort(function (a, b) {
    return a - b;
  });
  var bss = Array.from(
    new Set(
      usable.map(function (r) {
        return r.params.batch_size;
      }),
    ),
  ).sort(function (a, b) {
    return a - b;
  });
  var measures = [
    {
      title: S.objective ? S.objective.key : 'objective',
      lower: !S.objective || S.objective.direction === 'min',
      pick: function (d) {
        return d.objective;
      },
    },
    {
      title: 'final gap',
      lower: true,
      pick: function (d) {
        return d.final_gap;
      },
    },
  ];
  var warmups = Array.from(
    new Set(
      usable.map(function (r) {
        return JSON.stringify(r.params.warmup === undefined ? null : r.params.warmup);
      }),
    ),
  ).sort();
  var cells = warmups.map(function (w) {
    return measures.map(function (m) {
      return bss.map(function (b) {
        return lrs.map(function (lr) {
          var vs = usable
            .filter(function (r) {
              return (
                r.params.lr === lr &&
                r.params.batch_size === b &&
                JSON.stringify(r.params.warmup === undefined ? null : r.params.warmup) === w
              );
            })
            .map(function (r) {
              var d = diagOf(r.id);
              return d ? m.pick(d) : null;
            })
            .filter(isNum);
          return vs.length === 0
            ? null
            : vs.reduce(function (a, v) {
                return a + v;
              }, 0) / vs.length;
        });
      });
    });
  });
  var key = JSON.stringify([lrs, bss, warmups, cells]);
  if (key === heatKey) return;
  heatKey = key;
  cs.clear(heatBox);
  if (lrs.length < 2 && bss.length < 2) {
    heatBox.appendChild(
      el('p', { class: 'empty', text: 'Needs numeric lr and batch_size parameters with at least two values.' }),
    );
    return;
  }
  warmups.forEach(function (w, wi) {
    measures.forEach(function (m, mi) {
      var grid = cells[wi][mi];
      var values = [].concat.apply([], grid).filter(isNum);
      var lo = Math.min.apply(null, values),
        hi = Math.max.apply(null, values);
      var caption = m.title + (w !== 'null' ? ', warmup ' + JSON.parse(w) : '');
      var table = el('table', { class: 'heat', 'data-measure': m.title }, [
        el('caption', { text: caption }),
        el(
          'tr',
          null,
          [el('th')].concat(
            lrs.map(function (lr) {
              return el('th', { text: 'lr ' + cs.num(lr) });
            }),
          ),
        ),
      ]);
      bss.forEach(function (b, r) {
        table.appendChild(
          el(
            'tr',
            null,
            [el('th', { text: 'bs ' + b })].concat(
              lrs.map(function (lr, c) {
                var v = grid[r][c];
                var td = el('td', {
                  class: 'num',
                  'data-lr': lr,
                  'data-bs': b,
                  text: v === null ? 'n/a' : cs.num(v),
                });
                if (v !== null) {
                  var t = hi === lo ? 0.5 : (v - lo) / (hi - lo),
                    good = m.lower ? 1 - t : t;
                  td.style.background = heatColor(good);
                  td.style.color = good > 0.6 ? '#000' : '#fff';
                }
                return td;
              }),
            ),
          ),
        );
      });
      heatBox.appendChild(table);
    });
  });
}
