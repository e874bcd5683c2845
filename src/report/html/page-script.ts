// The page's own script (browser JavaScript, run after Chart.js and the chart builders from
// charts/specs.ts): draws every chart from the embedded data, and sorts the ranking table.
export const PAGE_SCRIPT = String.raw`
var data = JSON.parse(document.getElementById('report-data').textContent);
var host = document.getElementById('charts');
Chart.defaults.font.size = 12;
var drawn = [];
function draw(axis) {
drawn.forEach(function (chart) { chart.destroy(); });
drawn = [];
host.textContent = '';
data.charts.x_axis = axis;
buildCharts(data.charts).forEach(function (def) {
  var section = document.createElement('section');
  section.className = 'chart';
  section.id = 'chart-' + def.id;
  var h = document.createElement('h3');
  h.textContent = def.title;
  var p = document.createElement('p');
  p.className = 'note';
  p.textContent = def.note + (data.pngs.indexOf(def.file) >= 0 ? ' ' : '');
  if (data.pngs.indexOf(def.file) >= 0) {
    var a = document.createElement('a');
    a.href = def.file;
    a.textContent = '(PNG)';
    p.appendChild(a);
  }
  var grid = document.createElement('div');
  grid.className = def.panels.length > 1 ? 'panels' : 'single';
  section.append(h, p, grid);
  host.appendChild(section);
  def.panels.forEach(function (panel) {
    var box = document.createElement('div');
    box.className = 'canvas-box';
    var canvas = document.createElement('canvas');
    canvas.setAttribute('aria-label', def.title + (panel.title ? ': ' + panel.title : ''));
    box.appendChild(canvas);
    grid.appendChild(box);
    var config = panel.config;
    config.options = Object.assign({}, config.options, { responsive: true, maintainAspectRatio: false, animation: false });
    drawn.push(new Chart(canvas, config));
  });
});
}
draw(data.charts.x_axis || 'step');
document.querySelectorAll('input[name="x-axis"]').forEach(function (input) {
  input.addEventListener('change', function () { if (input.checked) draw(input.value); });
});

document.querySelectorAll('table.sortable').forEach(function (table) {
  var headers = table.querySelectorAll('th');
  headers.forEach(function (th, column) {
    var sort = function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      headers.forEach(function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (row) { return row.cells[column].getAttribute('data-sort'); };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        // Empty values (not ranked, not recorded) always sort last.
        if (x === '' || y === '') return x === y ? 0 : x === '' ? 1 : -1;
        var nx = Number(x), ny = Number(y);
        var c = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sort(); } });
  });
});
`;
