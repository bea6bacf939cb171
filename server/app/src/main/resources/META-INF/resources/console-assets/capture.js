// A device's raw-input capture opt-in: PUT /api/v1/devices/{id}/capture (a signed CONFIG command to the agent).
(function () {
  'use strict';
  const form = document.getElementById('capture-form');
  if (!form) return;
  const ef = window.edgefleet;
  const url = '/api/v1/devices/' + encodeURIComponent(form.dataset.device) + '/capture';
  async function send(body) {
    try {
      const v = await ef.call('PUT', url, body);
      ef.flash('Capture on ' + v.deviceId + ': ' + (v.enabled ? 'on, rate ' + v.rate : 'off'), 'ok');
      await ef.refresh();
    } catch (e) { ef.flash(e.message, 'error'); }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = form.elements;
    send({ enabled: true, rate: Number(f.rate.value), maxSamples: parseInt(f.maxSamples.value, 10),
      maxBytes: parseInt(f.maxBytes.value, 10) });
  });
  document.getElementById('capture-off').addEventListener('click', () => {
    if (window.confirm('Turn capture off? What the device has not sent yet is discarded.')) send({ enabled: false });
  });
})();
