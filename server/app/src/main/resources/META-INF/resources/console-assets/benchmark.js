// Start a device benchmark of a model version on devices of the class (POST /api/v1/device-classes/{id}/benchmarks).
(function () {
  'use strict';
  const form = document.getElementById('benchmark-form');
  if (!form) return;
  const ef = window.edgefleet;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      const b = await ef.call('POST', '/api/v1/device-classes/' + encodeURIComponent(form.dataset.class) + '/benchmarks',
        { model: f.model.value, version: parseInt(f.version.value, 10), devices: parseInt(f.devices.value, 10),
          seconds: parseInt(f.seconds.value, 10) });
      ef.flash('Benchmark ' + b.id + ' started on ' + b.devices.length + ' device(s)', 'ok');
      await ef.refresh();
    } catch (e) { ef.flash(e.message, 'error'); }
  });
})();
