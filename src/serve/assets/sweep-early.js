// Opens the sweep's event stream as the page starts, so that the server builds and sends the
// snapshot while the browser loads and compiles the page's scripts (Chart.js alone takes 100-200
// ms to compile here) instead of after them. cs.follow (common.js) takes the stream over and
// hands on what arrived before it.
(function () {
  'use strict';
  var parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'sweep' || parts.length !== 2) return;
  var path = '/api/sweeps/' + encodeURIComponent(parts[1]) + '/events';
  var source = new EventSource(path);
  var early = { path: path, source: source, events: [] };
  function keep(ev) {
    early.events.push(ev);
  }
  early.stop = function () {
    source.removeEventListener('snapshot', keep);
    source.removeEventListener('delta', keep);
  };
  source.addEventListener('snapshot', keep);
  source.addEventListener('delta', keep);
  window.csEarlyStream = early;
})();
