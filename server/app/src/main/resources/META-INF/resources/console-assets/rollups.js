// Hourly telemetry rollups of a device or a class (GET /api/v1/telemetry/hourly), for ranges beyond the raw
// windows' retention: worst p95, energy per inference and worst drift per hour, one series per model version.
(function () {
  'use strict';
  const root = document.getElementById('rollups');
  if (!root || !window.uPlot) return;
  const ef = window.edgefleet;
  const range = document.getElementById('rollup-range');
  const slo = root.dataset.sloP95 ? Number(root.dataset.sloP95) : null;
  const HOUR = 3600 * 1000;
  const plots = {};
  let lastKey = null;
  const colors = ['#2c7be5', '#00a65a', '#e67e22', '#8e44ad', '#16a085', '#c0392b'];

  function draw(key, el, hours, seriesByVersion, pick, line) {
    const versions = Object.keys(seriesByVersion).sort();
    const xs = hours.map((h) => h / 1000);
    const series = [{}];
    const data = [xs];
    versions.forEach((v, i) => {
      const byHour = seriesByVersion[v];
      series.push({ label: v, stroke: colors[i % colors.length], width: 2, spanGaps: false });
      data.push(hours.map((h) => (byHour[h] ? pick(byHour[h]) : null)));
    });
    if (line !== null && line !== undefined) {
      series.push({ label: 'limit', stroke: '#c0392b', dash: [6, 4], width: 1 });
      data.push(xs.map(() => line));
    }
    if (plots[key]) { plots[key].destroy(); }
    const width = Math.max(280, el.clientWidth || 360);
    plots[key] = new uPlot({ width: width, height: 180, series: series, axes: [{}, { size: 50 }] }, data, el);
  }

  async function poll() {
    const days = Number(range ? range.value : 7);
    const from = Math.floor((Date.now() - days * 24 * HOUR) / HOUR) * HOUR;
    // current=true: the hours not rolled up yet too, computed from the raw windows (the running one partial)
    const rows = (await ef.getJson(root.dataset.source + '&from=' + from + '&current=true')) || [];
    const key = days + ':' + JSON.stringify(rows);
    if (key === lastKey) return; // rollups change once an hour: redraw only then (or on a new range)
    lastKey = key;
    const hours = [...new Set(rows.map((r) => r.hourStart))].sort((a, b) => a - b);
    const byVersion = {};
    rows.forEach((r) => {
      const v = r.model ? r.model + ' v' + r.version : 'no model';
      (byVersion[v] = byVersion[v] || {})[r.hourStart] = r;
    });
    draw('lat', document.getElementById('rollup-latency'), hours, byVersion, (r) => r.p95LatencyMsMax, slo);
    draw('energy', document.getElementById('rollup-energy'), hours, byVersion, (r) => r.energyMjPerInference, null);
    draw('drift', document.getElementById('rollup-drift'), hours, byVersion, (r) => r.driftMax, 0.2);
    const partial = rows.some((r) => r.partial);
    const done = hours.length - (partial ? 1 : 0);
    document.getElementById('rollup-count').textContent = done + ' hour(s) rolled up in range'
      + (partial ? ', and the current hour so far (partial, from the raw windows)' : '');
    root.dataset.hours = String(hours.length);
    root.dataset.partial = String(partial);
  }

  if (range) range.addEventListener('change', () => poll().catch((e) => ef.flash(e.message, 'error')));
  poll().catch((e) => ef.flash(e.message, 'error'));
  ef.every(poll);
})();
