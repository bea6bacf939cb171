// One rollout, live: polls GET /api/v1/deployments/{id} and draws waves, gates, halt and targets.
(function () {
  'use strict';
  const root = document.getElementById('rollout');
  if (!root) return;
  const id = root.dataset.id;
  const ef = window.edgefleet;
  const $ = (s) => document.getElementById(s);
  const td = (v) => { const c = document.createElement('td'); c.textContent = v === null || v === undefined ? '–' : String(v); return c; };
  const row = (cells) => { const tr = document.createElement('tr'); cells.forEach((c) => tr.appendChild(c instanceof Node ? c : td(c))); return tr; };
  const TERMINAL = ['COMPLETED', 'FAILED', 'ROLLED_BACK', 'ABORTED', 'CANCELLED', 'SUPERSEDED', 'HALTED'];

  function bar(done, total) {
    const c = document.createElement('td');
    const b = document.createElement('div'); b.className = 'bar small';
    const f = document.createElement('div'); f.className = 'fill';
    f.style.width = (total ? Math.round(100 * done / total) : 0) + '%';
    b.appendChild(f); c.appendChild(b);
    return c;
  }

  function render(d) {
    $('dep-status').textContent = d.status;
    $('dep-status').className = 'status s-' + d.status;
    const w = d.waves || {};
    $('dep-wave').textContent = w.current || 0;
    $('dep-waves').textContent = w.count || 0;
    $('dep-phase').textContent = w.phase ? w.phase + (w.pausedAt ? ' (paused)' : '') : '';
    const s = d.summary || {};
    const total = (s.pending || 0) + (s.inProgress || 0) + (s.committed || 0) + (s.rolledBack || 0) + (s.failed || 0)
      + (s.timedOut || 0) + (s.cancelled || 0);
    $('dep-bar').style.width = (total ? Math.round(100 * (s.committed || 0) / total) : 0) + '%';
    $('dep-summary').textContent = (s.committed || 0) + ' of ' + total + ' committed · ' + (s.inProgress || 0)
      + ' in progress · ' + (s.pending || 0) + ' pending · ' + (s.failed || 0) + ' failed · ' + (s.rolledBack || 0)
      + ' rolled back';
    $('dep-reason').textContent = d.rollbackReason ? 'reason: ' + d.rollbackReason : '';

    const wb = document.querySelector('#waves tbody');
    wb.replaceChildren(...(w.waves || []).map((x) => row([x.wave === w.current && !TERMINAL.includes(d.status) ? x.wave + ' ◀' : x.wave,
      x.size, bar(x.committed, x.size), x.pending, x.inProgress, x.committed, x.rolledBack, x.failed, x.timedOut, x.cancelled])));

    const g = d.gates || {};
    $('gates-when').textContent = g.wave ? 'wave ' + g.wave + ', telemetry ' + ef.fmtTime(g.fromMs) + ' – ' + ef.fmtTime(g.toMs) : 'no gate evaluated yet';
    const gb = document.querySelector('#gates tbody');
    gb.replaceChildren(...(g.results || []).map((r) => {
      const v = td(!r.evaluated ? 'not evaluated' : (r.breached ? 'BREACHED' : 'passed'));
      v.className = r.breached ? 'warn' : (r.evaluated ? 'ok' : 'muted');
      return row([r.gate, r.observed === null || r.observed === undefined ? '–' : Number(r.observed).toFixed(3), r.limit, v]);
    }));

    const halt = $('halt');
    if (d.halt) {
      halt.hidden = false;
      halt.textContent = 'Halted by ' + d.halt.rule + ': ' + (d.halt.detail || '');
    } else { halt.hidden = true; }

    const tb = document.querySelector('#targets tbody');
    tb.replaceChildren(...(d.targets || []).slice(0, 500).map((t) => {
      const a = document.createElement('a'); a.href = '/console/devices/' + encodeURIComponent(t.deviceId); a.textContent = t.deviceId;
      const c = document.createElement('td'); c.appendChild(a);
      return row([c, t.wave, t.state, t.reason || '']);
    }));

    const running = d.status === 'IN_PROGRESS', paused = d.status === 'PAUSED';
    const enable = (bid, on) => { const b = $(bid); if (b) b.disabled = !on; };
    enable('btn-pause', running);
    enable('btn-resume', paused);
    enable('btn-abort', running || paused);
    enable('btn-rollback', !['ROLLED_BACK', 'SUPERSEDED'].includes(d.status));
    const u = $('updated'); if (u) u.textContent = new Date().toISOString().substring(11, 19) + 'Z';
  }

  async function poll() { render(await ef.getJson('/api/v1/deployments/' + encodeURIComponent(id))); }

  document.querySelectorAll('button[data-action]').forEach((b) => b.addEventListener('click', async () => {
    const action = b.dataset.action;
    let body;
    if (action === 'abort' || action === 'rollback') {
      const reason = window.prompt(action === 'abort' ? 'Abort this rollout: why?' : 'Roll this rollout back: why?', 'console: ' + action);
      if (reason === null) return;
      body = { reason: reason };
    }
    try {
      await ef.call('POST', '/api/v1/deployments/' + encodeURIComponent(id) + '/' + action, body === undefined ? '{}' : body);
      ef.flash(action + ' requested', 'ok');
      await poll();
    } catch (e) { ef.flash(e.message, 'error'); }
  }));

  poll().catch((e) => ef.flash(e.message, 'error'));
  ef.every(poll);
})();
