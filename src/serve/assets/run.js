// One run: parameters, state history, alerts, every metric series (drag to zoom: the full data
// of the range is fetched; double-click resets; smoothing as TensorBoard's, a debiased
// exponential moving average), stdout/stderr tails and checkpoints. Live while the run runs.
(function () {
  'use strict';
  var el = cs.el;
  var parts = cs.pathParts();
  var sweepName = parts[1],
    runId = parts[3];
  var base = '/api/sweeps/' + encodeURIComponent(sweepName) + '/runs/' + encodeURIComponent(runId);
  var POINTS = 1000;
  var main = document.getElementById('main');
  var crumbs = cs.clear(document.getElementById('crumbs'));
  crumbs.append(
    '/ ',
    el('a', { href: '/sweep/' + encodeURIComponent(sweepName), text: sweepName }),
    ' / ',
    el('span', { text: runId }),
  );
  var title = el('h1', { id: 'run-name', text: runId });
  var status = el('p', { id: 'run-status' });
  var alerts = el('ul', { id: 'alerts', class: 'alerts' });
  var params = el('table', { id: 'params', class: 'kv' });
  var history = el('table', { id: 'history' });
  var smooth = el('input', { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01', value: '0.6' });
  var smoothValue = el('span', { text: '0.6' });
  var charts = el('div', { id: 'metric-charts', class: 'charts' });
  var logs = el('div', { id: 'logs' });
  var checkpoints = el('table', { id: 'checkpoints' });
  main.append(
    title,
    status,
    el('h2', { text: 'Alerts' }),
    alerts,
    el('div', { class: 'two' }, [
      el('div', null, [el('h2', { text: 'Parameters' }), params]),
      el('div', null, [el('h2', { text: 'State history' }), history]),
    ]),
    el('h2', { text: 'Metrics' }),
    el('div', { class: 'controls' }, [
      el('label', { text: 'smoothing' }),
      smooth,
      smoothValue,
      el('span', {
        class: 'hint',
        text: 'Drag across a chart to zoom (full data of the range); double-click to reset.',
      }),
    ]),
    charts,
    el('h2', { text: 'Output' }),
    logs,
    el('h2', { text: 'Checkpoints' }),
    checkpoints,
  );

  var series = {}; // key -> { x, y, zoom: [from, to] | null, chart }
  var lastStep = null;

  function ema(ys, w) {
    // TensorBoard's smoothing: EMA with the zero-initialisation bias divided out.
    var out = [],
      last = 0,
      n = 0;
    for (var i = 0; i < ys.length; i++) {
      if (!isFinite(ys[i])) {
        out.push(ys[i]);
        continue;
      }
      last = last * w + (1 - w) * ys[i];
      n++;
      // Rounded to 12 digits: a constant series must stay flat, not show float noise.
      out.push(w === 0 ? ys[i] : Number((last / (1 - Math.pow(w, n))).toPrecision(12)));
    }
    return out;
  }
  function datasets(s) {
    var w = Number(smooth.value);
    var raw = s.x.map(function (x, i) {
      return { x: x, y: s.y[i] };
    });
    var sm = ema(s.y, w).map(function (y, i) {
      return { x: s.x[i], y: y };
    });
    return [
      { label: 'raw', data: raw, borderColor: 'rgba(34,85,170,0.25)', borderWidth: 1, pointRadius: 0 },
      // A series of a few evaluations is drawn with its points, or a single one would not show.
      {
        label: 'smoothed',
        data: sm,
        borderColor: '#2255aa',
        backgroundColor: '#2255aa',
        borderWidth: 2,
        pointRadius: s.x.length < 50 ? 3 : 0,
      },
    ];
  }
  function draw(key) {
    var s = series[key];
    var canvas = s.canvas;
    canvas.setAttribute('data-points', String(s.x.length));
    if (s.chart) {
      s.chart.data.datasets = datasets(s);
      s.chart.options.scales.x.min = s.zoom ? s.zoom[0] : undefined;
      s.chart.options.scales.x.max = s.zoom ? s.zoom[1] : undefined;
      s.chart.update('none');
      return;
    }
    s.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: datasets(s) },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { title: { display: true, text: key }, legend: { display: false } },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' } },
          y: {
            type: 'linear',
            ticks: {
              callback: function (v) {
                return cs.num(v);
              },
            },
          },
        },
      },
    });
  }
  function load(key, from, to) {
    var q =
      '?key=' +
      encodeURIComponent(key) +
      '&points=' +
      (from === undefined ? POINTS : 2000) +
      (from !== undefined ? '&from=' + Math.floor(from) + '&to=' + Math.ceil(to) : '');
    return cs.api(base + '/series' + q).then(function (d) {
      var s = series[key];
      s.x = d.x;
      s.y = d.y;
      s.zoom = from === undefined ? null : [from, to];
      s.box.querySelector('.note').textContent =
        d.total +
        ' points' +
        (d.total > d.x.length ? ' (' + d.x.length + ' drawn)' : '') +
        (d.nonfinite.length > 0
          ? '; non-finite at steps ' +
            d.nonfinite
              .slice(0, 5)
              .map(function (p) {
                return p.x + ' (' + p.y + ')';
              })
              .join(', ')
          : '');
      draw(key);
    });
  }
  function addChart(key) {
    var canvas = el('canvas', { 'data-key': key, 'aria-label': key });
    var box = el('section', { class: 'chart', 'data-key': key }, [
      el('p', { class: 'note' }),
      el('div', { class: 'canvas-box' }, [canvas]),
    ]);
    charts.appendChild(box);
    series[key] = { x: [], y: [], zoom: null, chart: null, canvas: canvas, box: box };
    var start = null;
    canvas.addEventListener('mousedown', function (ev) {
      start = ev.offsetX;
    });
    canvas.addEventListener('mouseup', function (ev) {
      var s = series[key];
      if (start === null || !s.chart || Math.abs(ev.offsetX - start) < 5) {
        start = null;
        return;
      }
      var a = s.chart.scales.x.getValueForPixel(Math.min(start, ev.offsetX)),
        b = s.chart.scales.x.getValueForPixel(Math.max(start, ev.offsetX));
      start = null;
      load(key, a, b);
    });
    canvas.addEventListener('dblclick', function () {
      load(key);
    });
    return load(key);
  }
  smooth.addEventListener('input', function () {
    smoothValue.textContent = smooth.value;
    Object.keys(series).forEach(draw);
  });

  function renderDetail(d) {
    var r = d.run;
    title.textContent = r ? r.name : runId;
    document.title = (r ? r.name : runId) + ': clipsweep';
    cs.clear(status);
    if (r)
      status.append(
        cs.stateBadge(r.status),
        ' attempt ' +
          r.attempt +
          (r.slot ? ' on ' + r.slot : '') +
          (r.gpu !== null ? ' (GPU ' + r.gpu + ')' : '') +
          ' · step ' +
          (r.last_step !== null ? r.last_step : '-') +
          (r.total_steps ? ' / ' + r.total_steps : '') +
          (r.reason ? ' · ' + [r.failure_kind, r.reason].filter(Boolean).join(': ') : ''),
      );
    cs.clear(params);
    Object.keys(d.params)
      .sort()
      .forEach(function (k) {
        params.appendChild(el('tr', null, [el('td', { text: k }), el('td', { text: JSON.stringify(d.params[k]) })]));
      });
    cs.clear(history);
    history.appendChild(
      el(
        'tr',
        null,
        ['time (UTC)', 'from', 'to', 'attempt', 'detail'].map(function (h) {
          return el('th', { text: h });
        }),
      ),
    );
    d.transitions.forEach(function (t) {
      history.appendChild(
        el(
          'tr',
          null,
          [cs.when(t.at), t.from || '', t.to, String(t.attempt), t.detail || ''].map(function (v) {
            return el('td', { text: v });
          }),
        ),
      );
    });
    cs.clear(alerts);
    if (d.alerts.length === 0) alerts.appendChild(el('li', { class: 'empty', text: 'No alert.' }));
    d.alerts.forEach(function (a) {
      alerts.appendChild(el('li', { class: a.kind, 'data-kind': a.kind, text: a.message }));
    });
    cs.clear(checkpoints);
    checkpoints.appendChild(
      el(
        'tr',
        null,
        ['file', 'size', 'modified (UTC)'].map(function (h) {
          return el('th', { text: h });
        }),
      ),
    );
    if (d.checkpoints.length === 0)
      checkpoints.appendChild(el('tr', null, [el('td', { colspan: 3, class: 'empty', text: 'No checkpoint.' })]));
    d.checkpoints.forEach(function (c) {
      checkpoints.appendChild(
        el('tr', null, [
          el('td', { text: c.path }),
          el('td', { class: 'num', text: String(c.size) }),
          el('td', { text: cs.when(c.mtime) }),
        ]),
      );
    });
    d.keys.forEach(function (k) {
      if (!series[k]) addChart(k);
    });
    lastStep = r ? r.last_step : null;
  }
  function loadLogs() {
    cs.clear(logs);
    ['stdout.log', 'stderr.log'].forEach(function (file) {
      var pre = el('pre', { 'data-file': file, text: 'loading…' });
      logs.append(el('h3', { text: file }), pre);
      cs.api(base + '/file?path=' + encodeURIComponent(file)).then(
        function (f) {
          pre.textContent = (f.truncated ? '… (last 64 KiB of ' + f.size + ' bytes)\n' : '') + (f.text || '(empty)');
        },
        function (e) {
          pre.textContent = e.message;
        },
      );
    });
  }
  function refresh() {
    return cs.api(base).then(renderDetail, function (e) {
      cs.clear(status).append('error: ' + e.message);
    });
  }
  refresh().then(loadLogs);
  // The sweep's event stream says when this run moved; then only the new points are fetched.
  var busy = false;
  cs.follow('/api/sweeps/' + encodeURIComponent(sweepName) + '/events?light=1', {
    snapshot: function () {},
    delta: function (d) {
      var mine = d.runs.filter(function (r) {
        return r.id === runId;
      })[0];
      if (!mine || busy) return;
      busy = true;
      var before = lastStep;
      refresh()
        .then(function () {
          return Promise.all(
            Object.keys(series).map(function (k) {
              var s = series[k];
              if (s.zoom) return null;
              var after = s.x.length > 0 ? s.x[s.x.length - 1] : -1;
              return cs
                .api(base + '/series?key=' + encodeURIComponent(k) + '&after=' + after + '&points=20000')
                .then(function (p) {
                  for (var i = 0; i < p.x.length; i++)
                    if (p.x[i] > after) {
                      s.x.push(p.x[i]);
                      s.y.push(p.y[i]);
                    }
                  draw(k);
                });
            }),
          );
        })
        .then(function () {
          if (before !== lastStep || mine.status !== 'running') loadLogs();
        })
        .finally(function () {
          busy = false;
        });
    },
  });
})();
