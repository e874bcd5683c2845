// The sweeps list: every sweep with its counts per state, live.
(function () {
  'use strict';
  var el = cs.el;
  var STATES = ['queued', 'running', 'completed', 'failed', 'interrupted', 'infeasible', 'pruned'];
  var main = document.getElementById('main');
  main.appendChild(el('h1', { text: 'Sweeps' }));
  var table = el('table', { id: 'sweeps' });
  var head = el(
    'tr',
    null,
    [el('th', { text: 'sweep' })]
      .concat(
        STATES.map(function (s) {
          return el('th', { text: s });
        }),
      )
      .concat([el('th', { text: 'total' }), el('th', { text: 'updated' })]),
  );
  table.appendChild(el('thead', null, [head]));
  var body = el('tbody');
  table.appendChild(body);
  main.appendChild(table);
  function render(list) {
    cs.clear(body);
    if (list.length === 0)
      body.appendChild(
        el('tr', null, [
          el('td', { colspan: STATES.length + 3, class: 'empty', text: 'No sweep in this database yet.' }),
        ]),
      );
    list
      .slice()
      .reverse()
      .forEach(function (s) {
        var link = el('a', { href: '/sweep/' + encodeURIComponent(s.name), text: s.name });
        var cells = [el('td', null, [link])];
        STATES.forEach(function (st) {
          cells.push(el('td', { class: 'num', 'data-state': st, text: s.counts[st] ? String(s.counts[st]) : '' }));
        });
        cells.push(el('td', { class: 'num', text: String(s.total) }), el('td', { text: cs.when(s.updated_at) }));
        body.appendChild(el('tr', { 'data-sweep': s.name }, cells));
      });
  }
  cs.follow('/api/events', { snapshot: render, sweeps: render });
})();
