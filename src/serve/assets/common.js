// Shared by the pages. Every string from the server reaches the page through textContent or an
// attribute set by setAttribute: never through innerHTML.
(function () {
  'use strict';
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs)
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) return;
        if (k === 'text') node.textContent = String(attrs[k]);
        else if (k === 'class') node.className = attrs[k];
        else node.setAttribute(k, String(attrs[k]));
      });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }
  function num(v) {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v === 'string') return v; // NaN, Infinity travel as strings
    if (!isFinite(v)) return String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  function duration(s) {
    if (s === null || s === undefined || !isFinite(s)) return '';
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600),
      m = Math.floor((s % 3600) / 60),
      sec = s % 60;
    return h > 0
      ? h + 'h' + String(m).padStart(2, '0') + 'm'
      : m > 0
        ? m + 'm' + String(sec).padStart(2, '0') + 's'
        : sec + 's';
  }
  function when(t) {
    return t ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) : '';
  }
  function api(path) {
    return fetch(path, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok)
        return r
          .json()
          .catch(function () {
            return {};
          })
          .then(function (b) {
            throw new Error(b.error || r.status + ' ' + r.statusText);
          });
      return r.json();
    });
  }
  /** Follows an event stream; `handlers` maps event names to functions. Reconnects by itself. */
  function follow(path, handlers) {
    var conn = document.getElementById('conn');
    // The stream the page's first script opened (sweep-early.js), with what it received so far.
    var early = window.csEarlyStream && window.csEarlyStream.path === path ? window.csEarlyStream : null;
    window.csEarlyStream = null;
    var source = early ? early.source : new EventSource(path);
    if (early) early.stop();
    source.onopen = function () {
      conn.textContent = 'live';
      conn.className = 'conn live';
    };
    if (source.readyState === EventSource.OPEN) source.onopen();
    source.onerror = function () {
      conn.textContent = 'reconnecting…';
      conn.className = 'conn down';
    };
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (ev) {
        handlers[name](JSON.parse(ev.data));
      });
    });
    // In order, before any later event (this runs to its end first).
    if (early)
      early.events.forEach(function (ev) {
        if (handlers[ev.type]) handlers[ev.type](JSON.parse(ev.data));
      });
    return source;
  }
  /** Path segments after the page prefix, decoded: /sweep/<name>/run/<id>. */
  function pathParts() {
    return location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  }
  function stateBadge(status) {
    return el('span', { class: 'state ' + status, text: status });
  }
  window.cs = {
    el: el,
    clear: clear,
    num: num,
    duration: duration,
    when: when,
    api: api,
    follow: follow,
    pathParts: pathParts,
    stateBadge: stateBadge,
  };
})();
