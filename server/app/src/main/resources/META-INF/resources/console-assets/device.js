// A device's telemetry over time (latency p95, energy per inference, drift), drawn with uPlot from
// GET /api/v1/devices/{id}/telemetry and refreshed live.
(function () {
  'use strict';
  const root = document.getElementById('plots');
  if (!root || !window.uPlot) return;
  const ef = window.edgefleet;
  const id = root.dataset.device;
  const slo = root.dataset.sloP95 ? Number(root.dataset.sloP95) : null;
  const plots = {};

  function draw(key, el, xs, ys, label, color, line) {
    const width = Math.max(280, el.clientWidth || 360);
    const series = [{}, { label: label, stroke: color, width: 2, spanGaps: true }];
    const data = [xs, ys];
    if (line !== null && line !== undefined) {
      series.push({ label: 'SLO', stroke: '#c0392b', dash: [6, 4], width: 1 });
      data.push(xs.map(() => line));
    }
    if (plots[key]) { plots[key].setData(data); return; }
    plots[key] = new uPlot({ width: width, height: 180, series: series, axes: [{}, { size: 50 }] }, data, el);
  }

  async function poll() {
    const windows = await ef.getJson('/api/v1/devices/' + encodeURIComponent(id) + '/telemetry?limit=200');
    const rows = (windows || []).slice().sort((a, b) => a.windowEnd - b.windowEnd);
    const xs = rows.map((w) => w.windowEnd / 1000);
    draw('lat', document.getElementById('plot-latency'), xs, rows.map((w) => w.latency ? w.latency.p95 : null), 'p95 ms', '#2c7be5', slo);
    draw('energy', document.getElementById('plot-energy'), xs, rows.map((w) => w.energyMj === undefined ? null : w.energyMj), 'mJ', '#00a65a', null);
    draw('drift', document.getElementById('plot-drift'), xs, rows.map((w) => w.drift === undefined ? null : w.drift), 'PSI', '#e67e22', 0.2);
    document.getElementById('telemetry-count').textContent = rows.length + ' windows';
    root.dataset.windows = String(rows.length);
  }

  poll().catch((e) => ef.flash(e.message, 'error'));
  ef.every(poll);
})();
