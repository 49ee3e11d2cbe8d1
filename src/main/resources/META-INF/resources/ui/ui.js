'use strict';
// The weldr dashboard: reads the public admin API every POLL_MS and acts through it. No
// framework, no inline code (the page's Content-Security-Policy forbids it).
(function () {
  const POLL_MS = 2000;
  const HISTORY = 150; // samples kept per server: 5 minutes at POLL_MS
  const LATENCY_WINDOW = 15; // samples the percentiles cover: 30 s at POLL_MS
  // The charts' time axis spans at least this many samples (30 s): the first samples fill the
  // chart from the right at their true pace instead of crawling along the last pixels of 5 minutes.
  const MIN_SPAN = 15;
  const EVENTS = 50; // events shown: the newest of the 50 of each feed read, merged
  const TOKEN_KEY = 'weldr.token';
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY);
  let readOnly = false;
  let timer = null;
  let busy = false;
  let previous = null;      // last /stats/detail reading: {time, byKey}
  const history = new Map(); // pool/server -> [{rps, errors, p99, buckets}] oldest first

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    if (token) headers['Authorization'] = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      // A read that hangs (a node stuck) must not stop the polling; a write may wait for a drain.
      signal: method === 'GET' ? AbortSignal.timeout(10000) : undefined });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    return { status: res.status, ok: res.ok, json, text };
  }

  class Unauthorized extends Error {}
  async function read(path) {
    const r = await api('GET', path);
    if (r.status === 401) throw new Unauthorized(r.json && r.json.message || 'unauthorized');
    if (!r.ok) throw new Error(path + ': ' + r.status + ' ' + (r.json && r.json.message || r.text));
    return r.json;
  }

  function askToken(message) {
    stop();
    $('main').hidden = true;
    $('logout').hidden = true;
    $('token-form').hidden = false;
    $('token-error').textContent = message || '';
    $('node').textContent = 'token needed';
    $('token-input').focus();
  }

  // The answer is one line (with the API's message when it failed); its body, folded, is opened on demand.
  function showAnswer(line, failed, body) {
    $('answer').hidden = false;
    $('answer').classList.toggle('failed', !!failed);
    $('answer-status').textContent = line;
    $('answer-details').hidden = !body;
    $('answer-details').open = false;
    $('answer-body').textContent = body || '';
  }

  function describe(method, path, r) {
    const message = r.json && !r.ok && r.json.message ? ': ' + r.json.message : '';
    return method + ' ' + path + ' \u2192 ' + r.status + message;
  }

  async function whoAmI() {
    const r = await api('GET', '/tokens/self');
    if (r.status === 401) throw new Unauthorized(r.json && r.json.message || 'unauthorized');
    readOnly = r.ok && r.json && r.json.scope === 'read';
    document.body.classList.toggle('read-only', readOnly);
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const [cluster, pools, detail, routes, certs, audit, events] = await Promise.all([
        read('/cluster'), read('/pools'), read('/stats/detail'), read('/routes'), read('/certificates'),
        read('/audit?limit=50'), read('/events?limit=50')]);
      const servers = await Promise.all(pools.pools.map((p) => read('/pools/' + encodeURIComponent(p.name) + '/servers')));
      $('token-form').hidden = true;
      $('main').hidden = false;
      $('logout').hidden = !token;
      showCluster(cluster);
      showPools(pools.pools, servers.map((s) => s.servers), detail);
      showRoutes(routes.routes);
      showCertificates(certs.certificates);
      showEvents(events.events, audit.entries);
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      hideActions();
    } catch (e) {
      if (e instanceof Unauthorized) {
        askToken(token ? 'The token was refused: ' + e.message : '');
      } else {
        $('updated').textContent = 'update failed: ' + e.message;
        $('banner').hidden = false;
        $('banner').textContent = '\u26A0 This node\u2019s admin API does not answer (' + e.message + '): what is shown may be out of date.';
      }
    } finally {
      busy = false;
    }
  }

  function showCluster(c) {
    $('node').textContent = 'node ' + c.self + (c.self === c.leader ? ' (leader)' : c.leader ? ' (follower)' : '') + ' \u00b7 cluster ' + c.cluster;
    const banner = $('banner');
    if (!c.leader) {
      banner.hidden = false;
      banner.textContent = '\u26A0 No leader: this node sees no quorum (term ' + c.term + '). Changes are refused with 503 until a leader is elected; what is shown is this node\u2019s last known state.';
    } else {
      banner.hidden = true;
    }
    const leader = c.peers.find((p) => p.role === 'leader');
    // Where to reach the leader's own page, from what it published when elected; a follower forwards writes there.
    $('leader-admin').replaceChildren(...(!c.leader ? ['No leader, so no leader\u2019s admin API to name.']
      : leader && leader.admin ? ['Leader\u2019s admin API' + (c.leader === c.self ? ' (this node): ' : ': '),
        el('a', { id: 'leader-admin-url', href: leader.admin + '/ui/', text: leader.admin })]
        : ['The leader ' + c.leader + ' has not published its admin URL yet.']));
    const vip = c.vip ? ' \u00b7 virtual IP ' + c.vip.address + (c.vip.heldHere ? ' held by this node' : ' not held by this node') : '';
    const since = c.leaderSince ? ' \u00b7 last election seen ' + new Date(c.leaderSince).toLocaleString() : '';
    $('cluster-summary').textContent = 'Term ' + c.term + ' \u00b7 leader ' + (c.leader || 'none') + since + vip + ' \u00b7 mode ' + c.mode + ' \u00b7 applied index ' + c.appliedIndex;
    const rows = c.peers.map((p) => {
      const actions = el('td', { class: 'action' });
      if (p.role !== 'leader' && c.leader) {
        actions.append(el('button', { type: 'button', class: 'action', 'data-action': 'transfer', 'data-peer': p.id, text: 'Make leader',
          'aria-label': 'Make ' + p.id + ' the leader' }));
      }
      return el('tr', { 'data-peer': p.id },
        el('td', { text: p.id + (p.id === c.self ? ' (this node)' : '') }),
        el('td', { class: 'role-' + p.role, text: p.role }),
        el('td', {}, p.admin ? el('a', { href: p.admin + '/ui/', text: p.admin }) : '\u2014'),
        actions);
    });
    document.querySelector('#nodes tbody').replaceChildren(...rows);
  }

  function spark(values, what, unit) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 ' + HISTORY + ' 30');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const peak = Math.max(0, ...values);
    const max = Math.max(1, peak);
    const last = values.length ? values[values.length - 1] : 0;
    const title = document.createElementNS(ns, 'title');
    title.textContent = what + ' over the last ' + Math.round(values.length * POLL_MS / 1000) + ' s; peak ' + fmt(peak) + unit + ', now ' + fmt(last) + unit;
    svg.append(title);
    const base = document.createElementNS(ns, 'line');
    base.setAttribute('x1', '0'); base.setAttribute('x2', String(HISTORY)); base.setAttribute('y1', '29'); base.setAttribute('y2', '29');
    svg.append(base);
    if (values.length) {
      // The x axis spans the samples there are (at least MIN_SPAN), newest at the right edge; a
      // single sample is a short level line, so the chart says something from the first reading.
      const span = Math.max(values.length - 1, MIN_SPAN);
      const step = HISTORY / span;
      // Zero sits just above the grey baseline, so a quiet series (no errors) still shows its line.
      const y = (v) => (26 - 24 * v / max).toFixed(1);
      const points = values.length === 1 ? [(HISTORY - step) + ',' + y(values[0]), HISTORY + ',' + y(values[0])]
        : values.map((v, i) => (HISTORY - (values.length - 1 - i) * step).toFixed(1) + ',' + y(v));
      const line = document.createElementNS(ns, 'polyline');
      line.setAttribute('points', points.join(' '));
      svg.append(line);
    }
    return svg;
  }

  function sumBuckets(samples) {
    let sum = null;
    for (const s of samples) {
      if (!s.buckets) continue;
      sum = sum ? sum.map((c, i) => c + s.buckets[i]) : s.buckets.slice();
    }
    return sum;
  }

  // The bucket bound at or below which a share q of the requests finished: "at most" that many ms.
  function percentile(counts, latency, q) {
    if (!counts || !latency) return null;
    const total = counts.reduce((a, b) => a + b, 0);
    if (!total) return null;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= q * total) return i < latency.boundsMs.length ? latency.boundsMs[i] : Infinity;
    }
    return Infinity;
  }

  function ms(bound) {
    if (bound === null || bound === undefined) return '\u2014';
    return bound === Infinity ? '> 10 s' : '\u2264 ' + (bound >= 1000 ? bound / 1000 + ' s' : bound + ' ms');
  }

  function fmt(n) {
    return n >= 100 ? String(Math.round(n)) : n.toFixed(1);
  }

  function showPools(pools, serverLists, detail) {
    const now = performance.now();
    const byKey = new Map(detail.map((d) => [d.pool + '/' + d.id, d]));
    const rates = new Map();
    for (const [key, d] of byKey) {
      const before = previous && previous.byKey.get(key);
      if (before) {
        const seconds = (now - previous.time) / 1000;
        const total = (d.success + d.failed) - (before.success + before.failed);
        const failed = d.failed - before.failed;
        const rps = seconds > 0 && total >= 0 ? total / seconds : 0;
        const buckets = d.latency && before.latency ? d.latency.counts.map((c, i) => Math.max(0, c - before.latency.counts[i])) : null;
        const h = history.get(key) || [];
        const sample = { rps, errors: total > 0 ? failed / total : 0, buckets };
        h.push(sample);
        if (h.length > HISTORY) h.shift();
        history.set(key, h);
        const recent = sumBuckets(h.slice(-LATENCY_WINDOW));
        sample.p99 = percentile(recent, d.latency, 0.99);
        rates.set(key, { rps, errors: sample.errors, p50: percentile(recent, d.latency, 0.5), p99: sample.p99 });
      }
    }
    for (const key of history.keys()) if (!byKey.has(key)) history.delete(key);
    previous = { time: now, byKey };

    const container = $('pool-list');
    const sections = pools.map((pool, i) => {
      const section = $('pool-template').content.firstElementChild.cloneNode(true);
      section.setAttribute('data-pool', pool.name);
      section.id = 'pool-' + pool.name;
      section.querySelector('.pool-name').textContent = 'Pool ' + pool.name + ' (' + pool.servers + ' server' + (pool.servers === 1 ? '' : 's') + ')';
      const s = pool.settings || {};
      section.querySelector('.pool-settings').textContent = Object.entries(s).filter(([, v]) => v !== null && typeof v !== 'object')
        .map(([k, v]) => k + ' ' + v).join(' \u00b7 ');
      const add = section.querySelector('.add-server');
      add.setAttribute('data-action', 'add');
      add.setAttribute('data-pool', pool.name);
      add.setAttribute('aria-label', 'Add a server to pool ' + pool.name);
      const rows = serverLists[i].map((server) => serverRow(pool.name, server, byKey.get(pool.name + '/' + server.id), rates.get(pool.name + '/' + server.id)));
      if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'No servers.' })));
      section.querySelector('tbody').replaceChildren(...rows);
      return section;
    });
    // Keep keyboard focus across redraws: note the focused button and focus its twin after.
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#pool-list [data-action]');
    const focusKey = focused ? [focused.getAttribute('data-action'), focused.getAttribute('data-pool'), focused.getAttribute('data-server')].join('|') : null;
    container.replaceChildren(...sections);
    if (focusKey) {
      for (const b of container.querySelectorAll('[data-action]')) {
        if ([b.getAttribute('data-action'), b.getAttribute('data-pool'), b.getAttribute('data-server')].join('|') === focusKey) { b.focus(); break; }
      }
    }
  }

  function serverRow(pool, server, d, rate) {
    const key = pool + '/' + server.id;
    const samples = history.get(key) || [];
    let state = server.state;
    let why = '';
    if (d && d.ejected && state === 'down') why = 'ejected by passive checks' + (d.ejectedUntil ? ' ' + until(d.ejectedUntil) : '');
    else if (state === 'down') why = 'failing active health checks';
    const actions = el('td', { class: 'action', 'data-label': 'Actions' });
    // The API names each server's path in its links: the page follows it rather than building one.
    const self = (server.links || []).find((l) => l.rel === 'self');
    const button = (action, text, label) => el('button', { type: 'button', class: 'action', 'data-action': action, 'data-pool': pool,
      'data-server': server.id, 'data-href': self && self.href, 'aria-label': label + ' ' + server.id, text });
    actions.append(server.draining ? button('undrain', 'Undrain', 'Undrain') : button('drain', 'Drain', 'Drain'),
      button('weight', 'Weight\u2026', 'Change the weight of'), button('remove', 'Remove\u2026', 'Remove'));
    const num = (label, text) => el('td', { class: 'num', 'data-label': label, text });
    return el('tr', { 'data-pool': pool, 'data-server': server.id },
      el('td', { 'data-label': 'Server', text: server.url }),
      el('td', { 'data-label': 'State' }, el('div', {}, el('span', { class: 'state state-' + state, text: state }), why ? el('span', { class: 'why', text: why }) : null)),
      num('Weight', String(server.weight)),
      num('In flight', d && d.inFlight !== undefined ? String(d.inFlight) : '\u2014'),
      num('Req/s', rate ? fmt(rate.rps) : '\u2014'),
      num('Errors', rate ? (rate.errors * 100).toFixed(1) + ' %' : '\u2014'),
      num('p50 / p99', rate ? ms(rate.p50) + ' / ' + ms(rate.p99) : '\u2014'),
      el('td', { 'data-label': 'Last minutes', class: 'charts' },
        spark(samples.map((x) => x.rps), 'requests per second', ' req/s'),
        spark(samples.map((x) => x.errors * 100), 'error rate', ' %'),
        spark(samples.map((x) => x.p99 === null || x.p99 === undefined ? 0 : Math.min(x.p99, 20000)), 'p99 latency (30 s window)', ' ms')),
      actions);
  }

  function showRoutes(routes) {
    const rows = routes.map((r) => el('tr', {},
      el('td', { text: r.name }), el('td', { text: r.host || '(any)' }), el('td', { text: r.pathPrefix || '/' }),
      el('td', { text: '\u2192 ' + r.pool }), el('td', { text: r.httpsRedirect ? 'redirect' : '\u2014' })));
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No routes: every request goes to the default pool.' })));
    document.querySelector('#route-table tbody').replaceChildren(...rows);
  }

  function showCertificates(certs) {
    const rows = certs.map((c) => {
      const days = c.notAfter ? Math.floor((Date.parse(c.notAfter) - Date.now()) / 86400000) : null;
      const left = days === null ? (c.acme ? c.acme.state : '\u2014') : days < 0 ? 'expired' : days + (days < 14 ? ' \u26A0 soon' : '');
      return el('tr', { 'data-certificate': c.name },
        el('td', { text: c.name }), el('td', { text: (c.names || []).join(', ') }), el('td', { text: c.source }),
        el('td', { text: c.notAfter || '\u2014' }), el('td', { class: 'num', text: left }));
    });
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No certificates.' })));
    document.querySelector('#certificate-table tbody').replaceChildren(...rows);
  }

  // "until 12:03:41 (8 s more)": the end of an ejection, by this browser's clock.
  function until(iso) {
    const end = new Date(iso);
    const left = Math.ceil((end.getTime() - Date.now()) / 1000);
    return 'until ' + end.toLocaleTimeString() + (left > 0 ? ' (' + left + ' s more)' : '');
  }

  // This node's events and the cluster's audit log, one list by time, newest first.
  function showEvents(events, audit) {
    const items = events.map((e) => ({ time: Date.parse(e.time), iso: e.time, kind: e.kind,
      attrs: { 'data-kind': e.kind, 'data-pool': e.pool, 'data-server': e.server, 'data-node': e.node },
      // A cluster event's detail names its node already.
      subject: e.server ? 'server ' + e.server + ' of pool ' + e.pool : '',
      text: e.detail + (e.until ? ', ' + until(e.until) : '') }))
      .concat(audit.map((a) => ({ time: Date.parse(a.time), iso: a.time, kind: 'change', attrs: { 'data-kind': 'change' },
        subject: a.action + ' ' + a.target, text: (a.summary ? a.summary + ' ' : '') + '(token ' + a.token + ', via ' + a.node + ')' })))
      .sort((x, y) => y.time - x.time)
      .slice(0, EVENTS);
    const list = $('event-list');
    list.replaceChildren(...items.map((i) => el('li', i.attrs,
      el('time', { datetime: i.iso, text: new Date(i.time).toLocaleString() }),
      el('span', { class: 'kind kind-' + i.kind, text: i.kind }),
      i.subject ? i.subject + ': ' + i.text : i.text)));
    if (!items.length) list.replaceChildren(el('li', { class: 'muted', text: 'Nothing yet.' }));
  }

  function hideActions() {
    for (const b of document.querySelectorAll('.action')) b.hidden = readOnly;
  }

  // One confirmation dialog for every action; resolves with the fields' values, or null.
  function confirmAction(title, text, fields, okText) {
    const dialog = $('confirm');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okText;
    const box = $('confirm-fields');
    box.replaceChildren(...fields.flatMap((f) => [el('label', { for: 'dialog-' + f.name, text: f.label }),
      el('input', { id: 'dialog-' + f.name, name: f.name, type: f.type || 'text', value: f.value, required: true,
        min: f.min, max: f.max, placeholder: f.placeholder, autocomplete: 'off' })]));
    return new Promise((resolve) => {
      const done = (value) => {
        $('confirm-form').removeEventListener('submit', onSubmit);
        $('confirm-cancel').removeEventListener('click', onCancel);
        dialog.removeEventListener('cancel', onCancel);
        dialog.close();
        resolve(value);
      };
      const onSubmit = (ev) => {
        ev.preventDefault();
        const values = {};
        for (const f of fields) values[f.name] = $('dialog-' + f.name).value.trim();
        done(values);
      };
      const onCancel = (ev) => { ev.preventDefault(); done(null); };
      $('confirm-form').addEventListener('submit', onSubmit);
      $('confirm-cancel').addEventListener('click', onCancel);
      dialog.addEventListener('cancel', onCancel);
      dialog.showModal();
      const first = box.querySelector('input');
      (first || $('confirm-cancel')).focus();
    });
  }

  async function act(method, path, body, pending) {
    showAnswer(pending || (method + ' ' + path + ' \u2026'));
    try {
      const r = await api(method, path, body);
      if (r.status === 401) { askToken('The token was refused: ' + (r.json && r.json.message || '')); return; }
      if (r.status === 403) { readOnly = true; hideActions(); }
      showAnswer(describe(method, path, r), !r.ok, r.json ? JSON.stringify(r.json, null, 1) : r.text);
    } catch (e) {
      showAnswer(method + ' ' + path + ' failed: ' + e.message, true);
    }
    refresh();
  }

  async function onAction(ev) {
    const b = ev.target.closest('button[data-action]');
    if (!b) return;
    const action = b.getAttribute('data-action');
    const pool = b.getAttribute('data-pool');
    const server = b.getAttribute('data-server');
    const href = b.getAttribute('data-href');
    if (action === 'add') {
      const v = await confirmAction('Add a server to ' + pool, 'POST /pools/' + pool + '/servers', [
        { name: 'url', label: 'URL', placeholder: 'http://127.0.0.1:8080', type: 'url' },
        { name: 'weight', label: 'Weight (1-1000)', value: '1', type: 'number', min: '1', max: '1000' }], 'Add');
      if (v) act('POST', '/pools/' + encodeURIComponent(pool) + '/servers', { url: v.url, weight: Number(v.weight) });
    } else if (action === 'drain' || action === 'undrain') {
      const drain = action === 'drain';
      const v = await confirmAction((drain ? 'Drain ' : 'Undrain ') + server, drain
        ? 'No new requests go to ' + server + ' in pool ' + pool + '; requests in flight finish.'
        : server + ' in pool ' + pool + ' takes new requests again.', [], drain ? 'Drain' : 'Undrain');
      if (v) act('PATCH', href, { draining: drain });
    } else if (action === 'weight') {
      const current = b.closest('tr').children[2].textContent;
      const v = await confirmAction('Weight of ' + server, 'Pool ' + pool + ': the share of new requests this server gets.', [
        { name: 'weight', label: 'Weight (1-1000)', value: current, type: 'number', min: '1', max: '1000' }], 'Change');
      if (v) act('PATCH', href, { weight: Number(v.weight) });
    } else if (action === 'remove') {
      const v = await confirmAction('Remove ' + server, 'Remove ' + server + ' from pool ' + pool + '. The answer comes once its requests in flight on this node have finished (up to weldr.timeout.drain).', [], 'Remove');
      if (v) act('DELETE', href, undefined, 'Removing ' + server + ': waiting for its requests in flight to finish (up to weldr.timeout.drain)\u2026');
    } else if (action === 'transfer') {
      const peer = b.getAttribute('data-peer');
      const v = await confirmAction('Make ' + peer + ' the leader', 'POST /cluster/leader: leadership moves to ' + peer + '; the answer comes once it leads.', [], 'Transfer');
      if (v) act('POST', '/cluster/leader', { peer });
    }
  }

  function start() {
    stop();
    refresh();
    timer = setInterval(refresh, POLL_MS);
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  async function begin() {
    try {
      await whoAmI();
      start();
    } catch (e) {
      if (e instanceof Unauthorized) askToken(token ? 'The token was refused: ' + e.message : '');
      else { $('updated').textContent = 'cannot reach the admin API: ' + e.message; start(); }
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      token = $('token-input').value.trim();
      $('token-input').value = '';
      sessionStorage.setItem(TOKEN_KEY, token);
      begin();
    });
    $('logout').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      askToken('');
    });
    document.body.addEventListener('click', onAction);
    begin();
  });
})();
