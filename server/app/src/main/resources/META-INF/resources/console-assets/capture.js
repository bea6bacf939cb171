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
    // an empty bound is left out: the server's default applies (a device never opted in has bounds of 0, which the
    // form's own min would refuse, so it shows them empty)
    send({ enabled: true, rate: Number(f.rate.value),
      maxSamples: f.maxSamples.value ? parseInt(f.maxSamples.value, 10) : null,
      maxBytes: f.maxBytes.value ? parseInt(f.maxBytes.value, 10) : null });
  });
  document.getElementById('capture-off').addEventListener('click', () => {
    if (window.confirm('Turn capture off? What the device has not sent yet is discarded.')) send({ enabled: false });
  });
})();
