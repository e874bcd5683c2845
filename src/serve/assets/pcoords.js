// Parallel coordinates (parameters against the objective) on a canvas, with brushing: drag along
// an axis to keep the runs whose value lies in the range; click an axis to clear its brush.
// Hand-written (about 150 lines) rather than a charting dependency: the page needs only lines,
// axes and a range per axis, and every library for it brings a DOM framework along.
(function () {
  'use strict';
  var PAD = { left: 50, right: 70, top: 26, bottom: 30 };

  function axisOf(name, rows, label) {
    var values = rows
      .map(function (r) {
        return r.values[name];
      })
      .filter(function (v) {
        return v !== undefined && v !== null && v !== '' && !(typeof v === 'number' && !isFinite(v));
      });
    var numeric =
      values.length > 0 &&
      values.every(function (v) {
        return typeof v === 'number';
      });
    if (numeric) {
      var lo = Math.min.apply(null, values),
        hi = Math.max.apply(null, values);
      var log = lo > 0 && hi / lo >= 20;
      return { name: name, label: label || name, kind: log ? 'log' : 'num', lo: lo, hi: hi };
    }
    var cats = Array.from(
      new Set(
        values.map(function (v) {
          return JSON.stringify(v);
        }),
      ),
    ).sort();
    return { name: name, label: label || name, kind: 'cat', cats: cats };
  }

  /** Position of a value on an axis, 0 (bottom) .. 1 (top); null when absent. */
  function position(axis, v) {
    if (v === undefined || v === null || v === '' || (typeof v === 'number' && !isFinite(v))) return null;
    if (axis.kind === 'cat') {
      var i = axis.cats.indexOf(JSON.stringify(v));
      return i < 0 ? null : axis.cats.length === 1 ? 0.5 : i / (axis.cats.length - 1);
    }
    if (typeof v !== 'number') return null;
    if (axis.hi === axis.lo) return 0.5;
    if (axis.kind === 'log') return (Math.log(v) - Math.log(axis.lo)) / (Math.log(axis.hi) - Math.log(axis.lo));
    return (v - axis.lo) / (axis.hi - axis.lo);
  }

  function tickText(axis, t) {
    if (axis.kind === 'cat') return '';
    var v =
      axis.kind === 'log'
        ? Math.exp(Math.log(axis.lo) + t * (Math.log(axis.hi) - Math.log(axis.lo)))
        : axis.lo + t * (axis.hi - axis.lo);
    return cs.num(v);
  }

  window.ParallelCoords = function (canvas, onChange) {
    var axes = [];
    var rows = [];
    var brushes = {}; // axis name -> [lo, hi] in 0..1
    var drag = null;

    // The canvas' size as the last layout left it: reading it in draw() forced a layout of the
    // whole page (the 200-row table with it) whenever a delta had changed the DOM.
    var box = null;
    if ('ResizeObserver' in window)
      new ResizeObserver(function (entries) {
        var r = entries[entries.length - 1].contentRect;
        var changed = !box || box.width !== r.width || box.height !== r.height;
        box = { width: r.width, height: r.height };
        if (changed && axes.length > 0) draw();
      }).observe(canvas);

    function size() {
      var r = box || canvas.getBoundingClientRect();
      var dpr = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(r.width * dpr));
      canvas.height = Math.max(1, Math.round(r.height * dpr));
      return { w: r.width, h: r.height, dpr: dpr };
    }
    function axisX(i, w) {
      return axes.length <= 1 ? PAD.left : PAD.left + (i * (w - PAD.left - PAD.right)) / (axes.length - 1);
    }
    function yOf(t, h) {
      return PAD.top + (1 - t) * (h - PAD.top - PAD.bottom);
    }
    function tOf(y, h) {
      return 1 - (y - PAD.top) / (h - PAD.top - PAD.bottom);
    }

    function passes(row) {
      return axes.every(function (a) {
        var b = brushes[a.name];
        if (!b) return true;
        var t = position(a, row.values[a.name]);
        return t !== null && t >= b[0] - 1e-9 && t <= b[1] + 1e-9;
      });
    }

    function draw() {
      var s = size();
      var ctx = canvas.getContext('2d');
      ctx.setTransform(s.dpr, 0, 0, s.dpr, 0, 0);
      ctx.clearRect(0, 0, s.w, s.h);
      canvas.setAttribute(
        'data-axes',
        JSON.stringify(
          axes.map(function (a, i) {
            return { name: a.name, x: axisX(i, s.w) };
          }),
        ),
      );
      canvas.setAttribute('data-top', String(PAD.top));
      canvas.setAttribute('data-bottom', String(s.h - PAD.bottom));
      if (axes.length === 0) {
        ctx.fillStyle = '#5b6475';
        ctx.fillText('No parameter varies yet.', PAD.left, PAD.top + 20);
        return;
      }
      var kept = rows.filter(passes),
        dropped = rows.filter(function (r) {
          return !passes(r);
        });
      [
        [dropped, true],
        [kept, false],
      ].forEach(function (pair) {
        pair[0].forEach(function (row) {
          ctx.beginPath();
          var started = false;
          axes.forEach(function (a, i) {
            var t = position(a, row.values[a.name]);
            if (t === null) {
              started = false;
              return;
            }
            var x = axisX(i, s.w),
              y = yOf(t, s.h);
            if (started) ctx.lineTo(x, y);
            else ctx.moveTo(x, y);
            started = true;
          });
          ctx.strokeStyle = pair[1] ? 'rgba(160,165,175,0.35)' : row.color;
          ctx.lineWidth = pair[1] ? 1 : 1.8;
          ctx.stroke();
        });
      });
      ctx.font = '12px system-ui, sans-serif';
      axes.forEach(function (a, i) {
        var x = axisX(i, s.w);
        ctx.strokeStyle = '#1d2330';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(x, yOf(1, s.h));
        ctx.lineTo(x, yOf(0, s.h));
        ctx.stroke();
        ctx.fillStyle = '#1d2330';
        ctx.textAlign = 'center';
        ctx.fillText(a.label, x, PAD.top - 10);
        ctx.textAlign = 'left';
        ctx.fillStyle = '#5b6475';
        if (a.kind === 'cat')
          a.cats.forEach(function (c) {
            ctx.fillText(JSON.parse(c) + '', x + 4, yOf(position(a, JSON.parse(c)), s.h) + 4);
          });
        else
          [0, 0.5, 1].forEach(function (t) {
            ctx.fillText(tickText(a, t), x + 4, yOf(t, s.h) + 4);
          });
        var b = brushes[a.name];
        if (b) {
          ctx.fillStyle = 'rgba(34,85,170,0.25)';
          ctx.strokeStyle = '#2255aa';
          var y1 = yOf(b[1], s.h),
            y0 = yOf(b[0], s.h);
          ctx.fillRect(x - 7, y1, 14, y0 - y1);
          ctx.strokeRect(x - 7, y1, 14, y0 - y1);
        }
      });
    }

    function nearestAxis(x) {
      var w = canvas.getBoundingClientRect().width,
        best = -1,
        dist = 24;
      axes.forEach(function (_a, i) {
        var d = Math.abs(axisX(i, w) - x);
        if (d < dist) {
          dist = d;
          best = i;
        }
      });
      return best;
    }
    function local(ev) {
      var r = canvas.getBoundingClientRect();
      return { x: ev.clientX - r.left, y: ev.clientY - r.top, h: r.height };
    }
    canvas.addEventListener('mousedown', function (ev) {
      var p = local(ev),
        i = nearestAxis(p.x);
      if (i < 0) return;
      drag = { axis: axes[i].name, y0: p.y, h: p.h };
      ev.preventDefault();
    });
    window.addEventListener('mousemove', function (ev) {
      if (!drag) return;
      var p = local(ev);
      var a = Math.max(0, Math.min(1, tOf(drag.y0, drag.h))),
        b = Math.max(0, Math.min(1, tOf(p.y, drag.h)));
      brushes[drag.axis] = [Math.min(a, b), Math.max(a, b)];
      draw();
    });
    window.addEventListener('mouseup', function (ev) {
      if (!drag) return;
      var p = local(ev);
      if (Math.abs(p.y - drag.y0) < 3) delete brushes[drag.axis]; // a click clears the axis
      drag = null;
      draw();
      onChange(selection());
    });
    window.addEventListener('resize', draw);

    function selection() {
      if (Object.keys(brushes).length === 0) return null;
      return new Set(
        rows.filter(passes).map(function (r) {
          return r.id;
        }),
      );
    }

    return {
      /** dims: [{name, label}] in axis order; rows: [{id, color, values: {name: value}}]. */
      setData: function (dims, newRows) {
        rows = newRows;
        axes = dims.map(function (d) {
          return axisOf(d.name, rows, d.label);
        });
        Object.keys(brushes).forEach(function (k) {
          if (
            !axes.some(function (a) {
              return a.name === k;
            })
          )
            delete brushes[k];
        });
        draw();
      },
      clear: function () {
        brushes = {};
        draw();
        onChange(null);
      },
      selection: selection,
    };
  };
})();
