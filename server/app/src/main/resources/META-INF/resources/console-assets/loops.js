// Closed loops: the per-class loop switch (PUT /api/v1/device-classes/{id}/loop) and rejecting a loop with a
// reason (POST /api/v1/loops/{id}/reject). Approve is a plain data-post button (console.js).
(function () {
  'use strict';
  const ef = window.edgefleet;
  document.addEventListener('click', async (ev) => {
    const mode = ev.target.closest && ev.target.closest('button.set-mode');
    const reject = ev.target.closest && ev.target.closest('button[data-reject]');
    try {
      if (mode) {
        const v = await ef.call('PUT', '/api/v1/device-classes/' + encodeURIComponent(mode.dataset.class) + '/loop',
          { mode: mode.dataset.mode });
        ef.flash('Loop mode of ' + v.classId + ': ' + v.mode, 'ok');
        await ef.refresh();
      } else if (reject) {
        const reason = window.prompt('Reject loop ' + reject.dataset.reject + ': why?', '');
        if (reason === null) return;
        const l = await ef.call('POST', '/api/v1/loops/' + encodeURIComponent(reject.dataset.reject) + '/reject',
          { reason: reason || 'rejected in the console' });
        ef.flash('Loop ' + l.id + ': ' + l.state, 'ok');
        await ef.refresh();
      }
    } catch (e) { ef.flash(e.message, 'error'); }
  });
})();
