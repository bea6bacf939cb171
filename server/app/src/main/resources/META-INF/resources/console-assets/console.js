// edgefleet console: shared helpers. Every state-changing call carries the session's CSRF token; the
// session itself is an HttpOnly cookie the scripts never see.
(function () {
  'use strict';
  const meta = (name) => (document.querySelector('meta[name="' + name + '"]') || {}).content || '';
  const csrf = meta('csrf-token');
  const pollMs = Math.max(1000, parseInt(meta('poll-ms'), 10) || 3000);

  function flash(text, kind) {
    const el = document.getElementById('flash');
    if (!el) return;
    el.textContent = text;
    el.className = 'flash ' + (kind || 'info');
    el.hidden = false;
  }

  async function call(method, url, body) {
    const headers = { 'Accept': 'application/json', 'X-CSRF-Token': csrf };
    const init = { method: method, headers: headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await fetch(url, init);
    if (r.status === 401) { location.href = '/console/login?next=' + encodeURIComponent(location.pathname + location.search); }
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (!r.ok) {
      const msg = json && json.error ? json.error + ': ' + json.message : 'HTTP ' + r.status;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return json;
  }

  async function getJson(url) { return call('GET', url); }

  function fmtTime(ms) {
    if (!ms) return '–';
    const d = new Date(Number(ms));
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function renderTimes(root) {
    (root || document).querySelectorAll('time[data-ms]').forEach((t) => { t.textContent = fmtTime(t.dataset.ms); });
  }

  function stamp() {
    const u = document.getElementById('updated');
    if (u) u.textContent = new Date().toISOString().substring(11, 19) + 'Z';
  }

  // Live regions: every element with data-live and an id is swapped for its fresh server rendering.
  async function refreshLive() {
    const regions = document.querySelectorAll('[data-live][id]');
    if (!regions.length || document.hidden) return;
    const active = document.activeElement;
    // do not pull a field from under the user (a button that was just clicked keeps the focus but is no field)
    if (active && active.closest && active.closest('[data-live]') && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return;
    const r = await fetch(location.href, { headers: { 'Accept': 'text/html' }, credentials: 'same-origin' });
    if (r.redirected || r.status === 401) { location.reload(); return; }
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    regions.forEach((el) => {
      const fresh = doc.getElementById(el.id);
      if (fresh && fresh.innerHTML !== el.innerHTML) { el.innerHTML = fresh.innerHTML; renderTimes(el); }
    });
    stamp();
  }

  function every(fn) {
    const tick = async () => {
      try { await fn(); } catch (e) { flash(e.message, 'error'); }
      setTimeout(tick, pollMs);
    };
    setTimeout(tick, pollMs);
  }

  // Buttons with data-post call the API (with the CSRF token) after an optional confirmation.
  document.addEventListener('click', async (ev) => {
    const b = ev.target.closest && ev.target.closest('button[data-post]');
    if (!b) return;
    if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
    try {
      await call('POST', b.dataset.post, b.dataset.body || '{}');
      flash('Done: ' + b.textContent, 'ok');
      refreshLive();
    } catch (e) { flash(e.message, 'error'); }
  });

  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', async () => {
      try { await call('POST', '/console/logout'); } finally { location.href = '/console/login'; }
    });
  }

  renderTimes(document);
  stamp();
  if (document.querySelector('[data-live][id]')) every(refreshLive);
  window.edgefleet = { call: call, getJson: getJson, flash: flash, every: every, fmtTime: fmtTime, pollMs: pollMs, refresh: refreshLive };
  // The page is usable: the browser tests measure navigation start -> this mark.
  document.body.dataset.ready = 'true';
  performance.mark('console-ready');
})();
