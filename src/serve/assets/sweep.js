// A sweep, live: runs table, alerts, parallel coordinates, the report's charts, compare view.
// State comes as one snapshot, then deltas (new points per run and key, changed runs, new
// diagnostics and alerts) over server-sent events; nothing is fetched twice.
(function () {
  'use strict';
  var el = cs.el;
  var sweepName = cs.pathParts()[1];
  var STATES = ['queued', 'running', 'completed', 'failed', 'interrupted', 'infeasible', 'pruned'];
  var ALERT_LABEL = {
    overfit: 'overfitting',
    'scale-dip': 'scale falling',
    'scale-rebound': 'scale rebound',
    diverged: 'diverged',
    'early-stop': 'early stop',
    pruned: 'pruned',
    failed: 'failed',
  };
  /** Live series are thinned (every other interior point) past this many points. */
  var MAX_POINTS = 1200;

  var S = {
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

  document.title = sweepName + ': clipsweep';
  cs.clear(document.getElementById('crumbs')).appendChild(el('span', { text: '/ ' + sweepName }));
  var main = document.getElementById('main');
  var counts = el('p', { id: 'counts' });
  var alertList = el('ul', { id: 'alerts', class: 'alerts' });
  var pcCanvas = el('canvas', {
    id: 'pcoords',
    'aria-label': 'parallel coordinates: parameters against the objective',
  });
  var stateSel = el(
    'select',
    { id: 'filter-state' },
    [el('option', { value: '', text: 'all states' })].concat(
      STATES.map(function (s) {
        return el('option', { value: s, text: s });
      }),
    ),
  );
  var paramInput = el('input', { id: 'filter-param', type: 'text', placeholder: 'lr=0.001 batch_size=64, or a name' });
  var xSel = el(
    'select',
    { id: 'x-axis' },
    ['step', 'epoch', 'samples'].map(function (x) {
      return el('option', { value: x, text: x });
    }),
  );
  var clearBrush = el('button', { id: 'clear-brush', type: 'button', text: 'clear brushes' });
  var compareBtn = el('button', { id: 'compare-btn', type: 'button', text: 'compare selected' });
  var table = el('table', { id: 'runs' });
  var thead = el('thead'),
    tbody = el('tbody');
  table.append(thead, tbody);
  var compareBox = el('section', { id: 'compare', hidden: 'hidden' });
  var chartsBox = el('div', { id: 'charts', class: 'charts' });
  var heatBox = el('div', { id: 'heatmaps', class: 'heatmaps' });
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
    table,
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

  var pc = window.ParallelCoords(pcCanvas, function (sel) {
    S.brush = sel;
    render(true);
  });
  clearBrush.addEventListener('click', function () {
    pc.clear();
  });
  stateSel.addEventListener('change', function () {
    render(true);
  });
  paramInput.addEventListener('input', function () {
    render(true);
  });
  xSel.addEventListener('change', function () {
    render(true);
  });
  compareBtn.addEventListener('click', function () {
    compareBox.hidden = !compareBox.hidden;
    renderCompare();
  });

  function now() {
    return Date.now() / 1000 + S.skew;
  }
  function diagOf(id) {
    var d = S.diags.get(id);
    return d ? d.diagnostics : null;
  }
  function progressOf(r) {
    var step = r.last_step,
      total = r.total_steps;
    var end = r.ended_at !== null && r.status !== 'running' ? r.ended_at : now();
    var elapsed = r.started_at !== null ? Math.max(0, end - r.started_at) : null;
    var eta = r.status === 'running' && step !== null && step > 0 && total ? (elapsed * (total - step)) / step : null;
    return {
      step: step,
      total: total,
      elapsed: elapsed,
      eta: eta,
      frac: step !== null && total ? Math.min(1, (step + 1) / total) : r.status === 'completed' ? 1 : 0,
    };
  }

  // ---- filters -------------------------------------------------------------------------------
  function paramMatcher() {
    var text = paramInput.value.trim();
    if (!text)
      return function () {
        return true;
      };
    var terms = text.split(/[\s,]+/).filter(Boolean);
    return function (r) {
      return terms.every(function (t) {
        var eq = t.indexOf('=');
        if (eq < 0) return r.name.toLowerCase().indexOf(t.toLowerCase()) >= 0;
        var k = t.slice(0, eq),
          v = t.slice(eq + 1);
        if (!(k in r.params)) return false;
        var p = r.params[k];
        return String(p) === v || (typeof p === 'number' && Number(v) === p);
      });
    };
  }
  function visibleRuns() {
    var state = stateSel.value,
      match = paramMatcher();
    return S.order
      .map(function (id) {
        return S.runs.get(id);
      })
      .filter(function (r) {
        return (!state || r.status === state) && match(r) && (!S.brush || S.brush.has(r.id));
      });
  }

  // ---- table ---------------------------------------------------------------------------------
  var COLUMNS = [
    {
      id: 'select',
      label: '',
      sort: null,
      cell: function (r) {
        var box = el('input', { type: 'checkbox', 'aria-label': 'select ' + r.name, 'data-run': r.id });
        box.checked = S.selected.has(r.id);
        box.addEventListener('change', function () {
          if (box.checked) S.selected.add(r.id);
          else S.selected.delete(r.id);
          if (!compareBox.hidden) renderCompare();
        });
        return el('td', null, [box]);
      },
    },
    {
      id: 'name',
      label: 'run',
      sort: function (r) {
        return r.name;
      },
      cell: function (r) {
        return el('td', { class: 'name' }, [
          el('span', { class: 'swatch', 'data-color': r.color }),
          el('a', {
            href: '/sweep/' + encodeURIComponent(sweepName) + '/run/' + encodeURIComponent(r.id),
            text: r.name,
          }),
        ]);
      },
    },
    {
      id: 'state',
      label: 'state',
      sort: function (r) {
        return r.status;
      },
      cell: function (r) {
        return el('td', null, [cs.stateBadge(r.status)]);
      },
    },
    {
      id: 'attempt',
      label: 'attempt',
      sort: function (r) {
        return r.attempt;
      },
      cell: function (r) {
        return el('td', { class: 'num', text: String(r.attempt) });
      },
    },
    {
      id: 'slot',
      label: 'slot / GPU',
      sort: function (r) {
        return r.slot || '';
      },
      cell: function (r) {
        return el('td', { text: (r.slot || '') + (r.gpu !== null ? ' (GPU ' + r.gpu + ')' : '') });
      },
    },
    {
      id: 'progress',
      label: 'progress',
      sort: function (r) {
        return progressOf(r).frac;
      },
      cell: function (r) {
        var p = progressOf(r);
        var bar = el('span', { class: 'bar' }, [el('span')]);
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
      sort: function (r) {
        return progressOf(r).elapsed;
      },
      cell: function (r) {
        return el('td', { class: 'num', text: cs.duration(progressOf(r).elapsed) });
      },
    },
    {
      id: 'eta',
      label: 'ETA',
      sort: function (r) {
        return progressOf(r).eta;
      },
      cell: function (r) {
        return el('td', { class: 'num', text: cs.duration(progressOf(r).eta) });
      },
    },
    {
      id: 'train',
      label: 'train loss',
      sort: function (r) {
        return r.latest['train/loss'];
      },
      cell: function (r) {
        return el('td', { class: 'num', text: cs.num(r.latest['train/loss']) });
      },
    },
    {
      id: 'bestval',
      label: 'best val loss',
      sort: function (r) {
        var d = diagOf(r.id);
        return d && d.best_val_loss;
      },
      cell: function (r) {
        var d = diagOf(r.id);
        return el('td', { class: 'num', text: d ? cs.num(d.best_val_loss) : '' });
      },
    },
    {
      id: 'scale',
      label: 'logit scale',
      sort: function (r) {
        return r.latest['logit_scale'];
      },
      cell: function (r) {
        return el('td', { class: 'num', text: cs.num(r.latest['logit_scale']) });
      },
    },
    {
      id: 'objective',
      label: 'objective',
      sort: function (r) {
        var d = diagOf(r.id);
        return d && d.objective;
      },
      cell: function (r) {
        var d = diagOf(r.id);
        return el('td', { class: 'num', text: d ? cs.num(d.objective) : '' });
      },
    },
    {
      id: 'failure',
      label: 'failure',
      sort: function (r) {
        return r.reason || '';
      },
      cell: function (r) {
        var td = el('td', { class: 'failure' });
        if (r.status === 'failed' || r.status === 'interrupted' || r.status === 'infeasible' || r.reason) {
          td.appendChild(el('span', { text: [r.failure_kind, r.reason].filter(Boolean).join(': ') }));
          var b = el('button', {
            type: 'button',
            class: 'stderr-btn',
            'data-run': r.id,
            text: S.expanded.has(r.id) ? 'hide stderr' : 'stderr',
          });
          b.addEventListener('click', function () {
            if (S.expanded.has(r.id)) S.expanded.delete(r.id);
            else S.expanded.add(r.id);
            renderTable();
          });
          td.append(' ', b);
        }
        return td;
      },
    },
  ];
  function renderHead() {
    cs.clear(thead);
    thead.appendChild(
      el(
        'tr',
        null,
        COLUMNS.map(function (c) {
          var th = el('th', { text: c.label, 'data-col': c.id });
          if (S.sort.col === c.id) th.setAttribute('aria-sort', S.sort.asc ? 'ascending' : 'descending');
          if (c.sort)
            th.addEventListener('click', function () {
              S.sort = { col: c.id, asc: S.sort.col === c.id ? !S.sort.asc : true };
              renderHead();
              renderTable();
            });
          return th;
        }),
      ),
    );
  }
  var stderrCache = {};
  function renderTable() {
    var runs = visibleRuns();
    var col = COLUMNS.filter(function (c) {
      return c.id === S.sort.col;
    })[0];
    if (col)
      runs.sort(function (a, b) {
        var x = col.sort(a),
          y = col.sort(b);
        var xe = x === null || x === undefined || x === '',
          ye = y === null || y === undefined || y === '';
        if (xe || ye) return xe === ye ? 0 : xe ? 1 : -1; // empty always last
        var c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return S.sort.asc ? c : -c;
      });
    cs.clear(tbody);
    runs.forEach(function (r) {
      var tr = el(
        'tr',
        { 'data-run': r.id, 'data-state': r.status },
        COLUMNS.map(function (c) {
          return c.cell(r);
        }),
      );
      tbody.appendChild(tr);
      var sw = tr.querySelector('.swatch');
      if (sw) sw.style.background = r.color;
      if (S.expanded.has(r.id)) {
        var pre = el('pre', {
          class: 'stderr',
          'data-run': r.id,
          text: stderrCache[r.id] !== undefined ? stderrCache[r.id] : 'loading…',
        });
        tbody.appendChild(el('tr', { class: 'stderr-row' }, [el('td', { colspan: COLUMNS.length }, [pre])]));
        if (stderrCache[r.id] === undefined)
          cs.api('/api/sweeps/' + encodeURIComponent(sweepName) + '/runs/' + encodeURIComponent(r.id)).then(
            function (d) {
              stderrCache[r.id] = d.stderr_tail || '(no stderr recorded)';
              renderTable();
            },
            function (e) {
              stderrCache[r.id] = 'error: ' + e.message;
              renderTable();
            },
          );
      }
    });
    if (runs.length === 0)
      tbody.appendChild(
        el('tr', null, [el('td', { colspan: COLUMNS.length, class: 'empty', text: 'No run matches.' })]),
      );
    var n = {};
    S.runs.forEach(function (r) {
      n[r.status] = (n[r.status] || 0) + 1;
    });
    counts.textContent =
      STATES.filter(function (s) {
        return n[s];
      })
        .map(function (s) {
          return n[s] + ' ' + s;
        })
        .join(' · ') +
      ' — showing ' +
      runs.length +
      ' of ' +
      S.runs.size +
      (S.objective ? ' — objective: ' + S.objective.direction + ' ' + S.objective.key : '');
  }

  // ---- alerts --------------------------------------------------------------------------------
  function renderAlerts() {
    cs.clear(alertList);
    if (S.alerts.length === 0)
      alertList.appendChild(
        el('li', { class: 'empty', text: 'No alert: no run overfits, diverges or has a falling logit scale so far.' }),
      );
    S.alerts
      .slice()
      .reverse()
      .forEach(function (a) {
        var run = S.runs.get(a.run);
        alertList.appendChild(
          el('li', { class: a.kind, 'data-kind': a.kind, 'data-run': a.run }, [
            el('span', { class: 'kind', text: ALERT_LABEL[a.kind] || a.kind }),
            el('a', {
              href: '/sweep/' + encodeURIComponent(sweepName) + '/run/' + encodeURIComponent(a.run),
              text: run ? run.name : a.run,
            }),
            ': ' + a.message,
          ]),
        );
      });
  }

  // ---- parallel coordinates ------------------------------------------------------------------
  var pcKey = '';
  function renderPcoords() {
    var runs = S.order.map(function (id) {
      return S.runs.get(id);
    });
    var names = {};
    runs.forEach(function (r) {
      Object.keys(r.params).forEach(function (k) {
        (names[k] = names[k] || new Set()).add(JSON.stringify(r.params[k]));
      });
    });
    var dims = Object.keys(names)
      .filter(function (k) {
        return names[k].size > 1;
      })
      .sort()
      .map(function (k) {
        return { name: k, label: k };
      });
    var objLabel = S.objective ? S.objective.key + ' (' + S.objective.direction + ')' : 'objective';
    dims.push({ name: '__objective', label: objLabel });
    var rows = runs.map(function (r) {
      var values = Object.assign({}, r.params);
      var d = diagOf(r.id);
      values.__objective = d && d.objective !== null ? d.objective : undefined;
      return { id: r.id, color: r.color, values: values };
    });
    var key = JSON.stringify([dims, rows]);
    if (key === pcKey) return;
    pcKey = key;
    pc.setData(dims, rows);
  }

  // ---- charts --------------------------------------------------------------------------------
  /** x of each point in the chosen unit: step, epoch (interpolated from logged epochs) or samples. */
  function xMapper(r) {
    var unit = xSel.value;
    if (unit === 'samples') {
      var b = Number(r.params.batch_size) || 1;
      return function (s) {
        return s * b;
      };
    }
    if (unit === 'epoch') {
      var ref = (S.series[r.id] || {})['train/loss'] || (S.series[r.id] || {})['lr'];
      var xs = [],
        es = [];
      if (ref && ref.e)
        for (var i = 0; i < ref.x.length; i++)
          if (ref.e[i] !== null && ref.e[i] !== undefined) {
            xs.push(ref.x[i]);
            es.push(ref.e[i]);
          }
      return function (s) {
        if (xs.length === 0) return null;
        if (xs.length === 1) return (es[0] * s) / Math.max(1, xs[0]);
        var j = 1;
        while (j < xs.length - 1 && xs[j] < s) j++;
        var a = j - 1;
        return es[a] + ((es[j] - es[a]) * (s - xs[a])) / (xs[j] - xs[a] || 1);
      };
    }
    return function (s) {
      return s;
    };
  }
  function convert(series, f) {
    var x = [],
      y = [];
    for (var i = 0; i < series.x.length; i++) {
      var v = f(series.x[i]);
      if (v !== null && isFinite(v)) {
        x.push(v);
        y.push(series.y[i]);
      }
    }
    return { x: x, y: y };
  }
  function chartInput(runs) {
    return {
      clamp: S.clamp,
      maxPanels: 12,
      maxLegend: 24,
      configs: runs.map(function (r) {
        var f = xMapper(r),
          series = {},
          own = S.series[r.id] || {};
        Object.keys(own).forEach(function (k) {
          series[k] = convert(own[k], f);
        });
        var d = diagOf(r.id),
          diag = S.diags.get(r.id);
        if (diag && diag.gap.x.length > 0) series.gap = convert(diag.gap, f);
        var at = function (s) {
          return s === null || s === undefined ? null : f(s);
        };
        return {
          id: r.id,
          name: r.name + (r.status === 'pruned' ? ' (pruned)' : ''),
          rank: null,
          color: r.color,
          dash: r.dash,
          params: r.params,
          series: series,
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
    return (config.data.datasets || []).reduce(function (n, d) {
      return n + (d.data ? d.data.length : 0);
    }, 0);
  }
  /**
   * Draws buildCharts(...) into `host`, updating the charts already there in place. One chart
   * section per task: the table and the first chart show before the rest are drawn, and a newer
   * call supersedes one still in progress.
   */
  function drawCharts(host, registry, runs) {
    var defs = buildCharts(chartInput(runs));
    var generation = (registry.generation || 0) + 1;
    registry.generation = generation;
    registry.drawnAt = Date.now();
    var seen = new Set(
      defs.map(function (d) {
        return d.id;
      }),
    );
    host.querySelectorAll('section[data-chart]').forEach(function (s) {
      if (!seen.has(s.getAttribute('data-chart'))) {
        s.querySelectorAll('canvas').forEach(function (c) {
          var ch = Chart.getChart(c);
          if (ch) ch.destroy();
        });
        s.remove();
      }
    });
    var i = 0;
    (function next() {
      if (registry.generation !== generation || i >= defs.length) return;
      drawOne(host, defs[i++]);
      setTimeout(next, 0);
    })();
  }
  function drawOne(host, def) {
    var section = host.querySelector('section[data-chart="' + def.id + '"]');
    if (!section || section.querySelectorAll('canvas').length !== def.panels.length) {
      var old = section;
      section = el('section', { class: 'chart', 'data-chart': def.id }, [
        el('h3'),
        el('p', { class: 'note' }),
        el('div', { class: def.panels.length > 1 ? 'panels' : 'single' }),
      ]);
      if (old) {
        old.querySelectorAll('canvas').forEach(function (c) {
          var ch = Chart.getChart(c);
          if (ch) ch.destroy();
        });
        host.replaceChild(section, old);
      } else host.appendChild(section);
      def.panels.forEach(function (_p, i) {
        section.lastChild.appendChild(el('div', { class: 'canvas-box' }, [el('canvas', { 'data-panel': String(i) })]));
      });
    }
    section.querySelector('h3').textContent = def.title;
    section.querySelector('.note').textContent = def.note;
    def.panels.forEach(function (panel, i) {
      var canvas = section.querySelectorAll('canvas')[i];
      var config = panel.config;
      config.options = Object.assign({}, config.options, {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
      });
      if (config.type === 'line' && config.options.scales && config.options.scales.x)
        config.options.scales.x.title = { display: true, text: xSel.value };
      canvas.setAttribute('aria-label', def.title + (panel.title ? ': ' + panel.title : ''));
      canvas.setAttribute('data-points', String(pointCount(config)));
      var chart = Chart.getChart(canvas);
      if (chart) {
        chart.data = config.data;
        chart.options = config.options;
        chart.update('none');
      } else new Chart(canvas, config);
    });
  }
  var mainCharts = {},
    compareCharts = {};

  // ---- compare -------------------------------------------------------------------------------
  function renderCompare() {
    if (compareBox.hidden) return;
    cs.clear(compareBox);
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
    var charts = el('div', { id: 'compare-charts', class: 'charts' });
    compareBox.append(t, charts);
    drawCharts(charts, compareCharts, runs);
  }

  // ---- heatmaps ------------------------------------------------------------------------------
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
  var heatKey = '';
  /** One table per warmup (and per measure): mean over the runs of each lr x batch_size cell. */
  function renderHeatmaps(runs) {
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

  // ---- state updates -------------------------------------------------------------------------
  var pending = { table: false, charts: false },
    timer = null;
  function render(now_) {
    pending.table = pending.charts = true;
    if (now_) return flush();
    if (!timer) timer = setTimeout(flush, 250);
  }
  function flush() {
    timer = null;
    renderTable();
    renderAlerts();
    renderPcoords();
    // Charts at most once a second: Chart.js redraws are the page's main cost.
    var wait = 1000 - (Date.now() - (mainCharts.drawnAt || 0));
    if (wait > 0) {
      if (!timer) timer = setTimeout(flush, wait);
      return;
    }
    var shown = visibleRuns();
    drawCharts(chartsBox, mainCharts, shown);
    renderHeatmaps(shown);
    if (!compareBox.hidden) renderCompare();
  }
  function setRun(v) {
    if (!S.runs.has(v.id)) S.order.push(v.id);
    S.runs.set(v.id, v);
    S.order.sort(function (a, b) {
      return S.runs.get(a).ordinal - S.runs.get(b).ordinal;
    });
  }
  function appendPoints(p) {
    var own = S.series[p.run] || (S.series[p.run] = {});
    var s = own[p.key] || (own[p.key] = { x: [], y: [], e: [] });
    if (!s.e)
      s.e = s.x.map(function () {
        return null;
      }); // the snapshot omits epochs never logged
    var last = s.x.length > 0 ? s.x[s.x.length - 1] : -Infinity;
    for (var i = 0; i < p.x.length; i++) {
      if (p.x[i] <= last || typeof p.y[i] !== 'number') continue; // already have it, or NaN/Inf (an alert, not a point)
      s.x.push(p.x[i]);
      s.y.push(p.y[i]);
      s.e.push(p.e[i]);
    }
    if (s.x.length > MAX_POINTS) {
      var keep = function (_v, j) {
        return j === 0 || j === s.x.length - 1 || j % 2 === 0;
      };
      s.x = s.x.filter(keep);
      s.y = s.y.filter(keep);
      s.e = s.e.filter(keep);
    }
  }
  cs.follow('/api/sweeps/' + encodeURIComponent(sweepName) + '/events', {
    snapshot: function (snap) {
      S.skew = snap.now - Date.now() / 1000;
      S.objective = snap.objective;
      S.clamp = snap.clamp;
      S.runs = new Map();
      S.order = [];
      S.diags = new Map();
      snap.runs.forEach(setRun);
      S.series = snap.series;
      snap.diags.forEach(function (d) {
        S.diags.set(d.run, d);
      });
      S.alerts = snap.alerts;
      renderHead();
      render(true);
    },
    delta: function (d) {
      S.skew = d.now - Date.now() / 1000;
      d.resets.forEach(function (id) {
        delete S.series[id];
        S.diags.delete(id);
        S.alerts = S.alerts.filter(function (a) {
          return a.run !== id;
        });
      });
      d.runs.forEach(setRun);
      d.points.forEach(appendPoints);
      d.diags.forEach(function (x) {
        S.diags.set(x.run, x);
      });
      S.alerts = S.alerts.concat(d.alerts);
      render(false);
    },
  });
  // Elapsed and ETA move with the clock even when no row does.
  setInterval(function () {
    if (
      Array.from(S.runs.values()).some(function (r) {
        return r.status === 'running';
      })
    )
      renderTable();
  }, 1000);
})();
