// Start a rollout from the form: POST /api/v1/deployments with a waves policy, then open its live page.
(function () {
  'use strict';
  const form = document.getElementById('rollout-form');
  if (!form) return;
  const model = form.elements.model;
  model.addEventListener('change', () => {
    const opt = model.options[model.selectedIndex];
    if (opt && opt.dataset.latest) form.elements.version.value = opt.dataset.latest;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const canary = parseInt(f.canary.value, 10);
    const body = {
      model: f.model.value,
      version: parseInt(f.version.value, 10),
      classId: f.classId.value,
      policy: {
        canary: canary > 0 ? { count: canary } : { percent: 0 },
        batches: { percent: parseInt(f.batch.value, 10) },
        soakSeconds: parseInt(f.soak.value, 10),
        successCondition: { minCommittedPercent: parseInt(f.minCommitted.value, 10) },
        gates: { latency: f.latencyGate.checked }
      }
    };
    const tags = f.tags.value.split(',').map((s) => s.trim()).filter((s) => s);
    if (tags.length) body.tags = tags;
    try {
      const d = await window.edgefleet.call('POST', '/api/v1/deployments', body);
      location.href = '/console/rollouts/' + encodeURIComponent(d.id);
    } catch (e) { window.edgefleet.flash(e.message, 'error'); }
  });
})();
