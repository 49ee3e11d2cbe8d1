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
  let timer = null;
  // Bumped whenever the token is dropped or refused: answers to calls begun before are dropped, so a
  // poll in flight cannot show the node's state again once the page asked for a token.
  let generation = 0;
  let polling = null;       // the generation whose poll is in flight
  let previous = null;      // last /stats/detail reading: {time, byKey}
  // pool/server -> {samples: [{rps, errors, p99}] oldest first, up to HISTORY; buckets: the latency
  // counts of the last LATENCY_WINDOW samples only, the ones the percentiles use}
  const history = new Map();
  const poolViews = new Map(); // pool name -> its section and its rows, kept across polls
  const drawn = new Map();     // part of the page -> what it was drawn from, to redraw only on a change

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

  // Writes only on a change: an unchanged text is not rewritten, so a live region is not announced again.
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function setAttr(node, name, value) {
    if (value === undefined || value === null) node.removeAttribute(name);
    else if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  }

  // Whether `part` must be drawn from `data`: false when it was drawn from the same data last time.
  function changed(part, data) {
    const sig = JSON.stringify(data);
    if (drawn.get(part) === sig) return false;
    drawn.set(part, sig);
    return true;
  }

  class Unauthorized extends Error {}
  async function read(path) {
    const r = await api('GET', path);
    if (r.status === 401) throw new Unauthorized(r.json && r.json.message || 'unauthorized');
    if (!r.ok) throw new Error(path + ': ' + r.status + ' ' + (r.json && r.json.message || r.text));
    return r.json;
  }

  function askToken(message) {
    generation++;
    stop();
    $('main').hidden = true;
    $('logout').hidden = true;
    $('answer').hidden = true;
    $('token-form').hidden = false;
    $('token-error').textContent = message || '';
    setText($('node'), 'token needed');
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
    // The actions are hidden by the stylesheet under this class, new rows' included.
    document.body.classList.toggle('read-only', r.ok && r.json && r.json.scope === 'read');
  }

  // One poll: a fixed number of calls however many pools and servers there are (every pool's servers
  // come in GET /pools?expand=servers), all at once.
  async function refresh() {
    const gen = generation;
    if (polling === gen) return;
    polling = gen;
    try {
      const [cluster, pools, detail, routes, certs, audit, events] = await Promise.all([
        read('/cluster'), read('/pools?expand=servers'),
        // The rates divide by the time between two readings of the counters: the time this one
        // answered, not the time the slowest of the other calls did.
        read('/stats/detail').then((list) => ({ list, time: performance.now() })),
        read('/routes'), read('/certificates'), read('/audit?limit=50'), read('/events?limit=50')]);
      if (gen !== generation) return;
      $('token-form').hidden = true;
      $('main').hidden = false;
      $('logout').hidden = !token;
      showCluster(cluster);
      showPools(pools.pools, detail);
      showRoutes(routes.routes);
      showCertificates(certs.certificates);
      showEvents(events.events, audit.entries);
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (gen !== generation) return;
      if (e instanceof Unauthorized) {
        askToken(token ? 'The token was refused: ' + e.message : '');
      } else {
        $('updated').textContent = 'update failed: ' + e.message;
        $('banner').hidden = false;
        setText($('banner'), '\u26A0 This node\u2019s admin API does not answer (' + e.message + '): what is shown may be out of date.');
      }
    } finally {
      if (polling === gen) polling = null;
    }
  }

  function showCluster(c) {
    setText($('node'), 'node ' + c.self + (c.self === c.leader ? ' (leader)' : c.leader ? ' (follower)' : '') + ' \u00b7 cluster ' + c.cluster);
    const banner = $('banner');
    if (!c.leader) {
      banner.hidden = false;
      setText(banner, '\u26A0 No leader: this node sees no quorum (term ' + c.term + '). Changes are refused with 503 until a leader is elected; what is shown is this node\u2019s last known state.');
    } else {
      banner.hidden = true;
    }
    const vip = c.vip ? ' \u00b7 virtual IP ' + c.vip.address + (c.vip.heldHere ? ' held by this node' : ' not held by this node') : '';
    const since = c.leaderSince ? ' \u00b7 last election seen ' + new Date(c.leaderSince).toLocaleString() : '';
    setText($('cluster-summary'), 'Term ' + c.term + ' \u00b7 leader ' + (c.leader || 'none') + since + vip + ' \u00b7 mode ' + c.mode + ' \u00b7 applied index ' + c.appliedIndex);
    // Redrawn only when the members change: a redraw would take the keyboard's focus off a link or button.
    if (!changed('cluster', [c.self, c.leader, c.peers])) return;
    const leader = c.peers.find((p) => p.role === 'leader');
    // Where to reach the leader's own page, from what it published when elected; a follower forwards writes there.
    $('leader-admin').replaceChildren(...(!c.leader ? ['No leader, so no leader\u2019s admin API to name.']
      : leader && leader.admin ? ['Leader\u2019s admin API' + (c.leader === c.self ? ' (this node): ' : ': '),
        el('a', { id: 'leader-admin-url', href: leader.admin + '/ui/', text: leader.admin })]
        : ['The leader ' + c.leader + ' has not published its admin URL yet.']));
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

  const SVG = 'http://www.w3.org/2000/svg';

  // A small chart, drawn once per server and changed in place on each poll.
  function spark() {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 ' + HISTORY + ' 30');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const title = document.createElementNS(SVG, 'title');
    const base = document.createElementNS(SVG, 'line');
    base.setAttribute('x1', '0'); base.setAttribute('x2', String(HISTORY)); base.setAttribute('y1', '29'); base.setAttribute('y2', '29');
    svg.append(title, base);
    return { svg, title, line: null };
  }

  // What a chart shows of `values`: its title and its line's points (null without a sample).
  function sparkData(values, what, unit) {
    const peak = Math.max(0, ...values);
    const max = Math.max(1, peak);
    const last = values.length ? values[values.length - 1] : 0;
    const title = what + ' over the last ' + Math.round(values.length * POLL_MS / 1000) + ' s; peak ' + fmt(peak) + unit + ', now ' + fmt(last) + unit;
    if (!values.length) return { title, points: null };
    // The x axis spans the samples there are (at least MIN_SPAN), newest at the right edge; a
    // single sample is a short level line, so the chart says something from the first reading.
    const span = Math.max(values.length - 1, MIN_SPAN);
    const step = HISTORY / span;
    // Zero sits just above the grey baseline, so a quiet series (no errors) still shows its line.
    const y = (v) => (26 - 24 * v / max).toFixed(1);
    const points = values.length === 1 ? [(HISTORY - step) + ',' + y(values[0]), HISTORY + ',' + y(values[0])]
      : values.map((v, i) => (HISTORY - (values.length - 1 - i) * step).toFixed(1) + ',' + y(v));
    return { title, points: points.join(' ') };
  }

  function drawSpark(chart, data) {
    setText(chart.title, data.title);
    if (data.points === null) return;
    if (!chart.line) {
      chart.line = document.createElementNS(SVG, 'polyline');
      chart.svg.append(chart.line);
    }
    setAttr(chart.line, 'points', data.points);
  }

  function sumBuckets(window) {
    let sum = null;
    for (const b of window) {
      if (!b) continue;
      sum = sum ? sum.map((c, i) => c + b[i]) : b.slice();
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

  // The rates of each server since the last reading of the counters, taken at `time`; adds a sample to its history.
  function sample(byKey, time) {
    const rates = new Map();
    for (const [key, d] of byKey) {
      const before = previous && previous.byKey.get(key);
      if (!before) continue;
      const latency = d.latency && before.latency;
      // A counter below its last reading counts anew: the server was removed and added again, or
      // the node restarted, in between. The difference would be meaningless (a negative error
      // rate): this reading is the new start, with no sample.
      if (d.success < before.success || d.failed < before.failed
        || (latency && d.latency.counts.some((c, i) => c < before.latency.counts[i]))) continue;
      const seconds = (time - previous.time) / 1000;
      const total = (d.success + d.failed) - (before.success + before.failed);
      const failed = d.failed - before.failed;
      const rps = seconds > 0 ? total / seconds : 0;
      let h = history.get(key);
      if (!h) history.set(key, h = { samples: [], buckets: [] });
      h.buckets.push(latency ? d.latency.counts.map((c, i) => c - before.latency.counts[i]) : null);
      if (h.buckets.length > LATENCY_WINDOW) h.buckets.shift();
      const recent = sumBuckets(h.buckets);
      const s = { rps, errors: total > 0 ? failed / total : 0, p99: percentile(recent, d.latency, 0.99) };
      h.samples.push(s);
      if (h.samples.length > HISTORY) h.samples.shift();
      rates.set(key, { rps, errors: s.errors, p50: percentile(recent, d.latency, 0.5), p99: s.p99 });
    }
    for (const key of history.keys()) if (!byKey.has(key)) history.delete(key);
    previous = { time, byKey };
    return rates;
  }

  // Puts `children` in `parent` in this order, moving only what is out of place and removing the rest.
  function arrange(parent, children) {
    children.forEach((c, i) => { if (parent.children[i] !== c) parent.insertBefore(c, parent.children[i] || null); });
    while (parent.children.length > children.length) parent.lastElementChild.remove();
  }

  function poolView(name) {
    const section = $('pool-template').content.firstElementChild.cloneNode(true);
    section.setAttribute('data-pool', name);
    section.id = 'pool-' + name;
    const add = section.querySelector('.add-server');
    add.setAttribute('data-action', 'add');
    add.setAttribute('data-pool', name);
    add.setAttribute('aria-label', 'Add a server to pool ' + name);
    return { section, title: section.querySelector('.pool-name'), settings: section.querySelector('.pool-settings'),
      tbody: section.querySelector('tbody'), rows: new Map(), empty: null };
  }

  // Each pool's section and each server's row are drawn once and changed in place, and only when
  // what they show changed: thousands of servers cost a comparison each on a poll, not a redraw.
  function showPools(pools, detail) {
    const byKey = new Map(detail.list.map((d) => [d.pool + '/' + d.id, d]));
    const rates = sample(byKey, detail.time);
    const sections = pools.map((pool) => {
      let v = poolViews.get(pool.name);
      if (!v) poolViews.set(pool.name, v = poolView(pool.name));
      setText(v.title, 'Pool ' + pool.name + ' (' + pool.servers + ' server' + (pool.servers === 1 ? '' : 's') + ')');
      const s = pool.settings || {};
      setText(v.settings, Object.entries(s).filter(([, x]) => x !== null && typeof x !== 'object')
        .map(([k, x]) => k + ' ' + x).join(' \u00b7 '));
      const list = pool.serverList || [];
      const rows = list.map((server) => {
        let row = v.rows.get(server.id);
        if (!row) v.rows.set(server.id, row = serverRow(pool.name, server.id));
        const key = pool.name + '/' + server.id;
        drawServer(row, server, byKey.get(key), rates.get(key), (history.get(key) || { samples: [] }).samples);
        return row.tr;
      });
      const ids = new Set(list.map((x) => x.id));
      for (const id of v.rows.keys()) if (!ids.has(id)) v.rows.delete(id);
      if (!rows.length) rows.push(v.empty || (v.empty = el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'No servers.' }))));
      arrange(v.tbody, rows);
      return v.section;
    });
    const names = new Set(pools.map((p) => p.name));
    for (const name of poolViews.keys()) if (!names.has(name)) poolViews.delete(name);
    arrange($('pool-list'), sections);
  }

  function serverRow(pool, id) {
    const num = (label) => el('td', { class: 'num', 'data-label': label });
    const button = (action) => el('button', { type: 'button', class: 'action', 'data-action': action, 'data-pool': pool, 'data-server': id });
    const r = {
      url: el('td', { 'data-label': 'Server' }), state: el('span', { class: 'state' }), why: el('span', { class: 'why' }),
      weight: num('Weight'), inFlight: num('In flight'), rps: num('Req/s'), errors: num('Errors'), latency: num('p50 / p99'),
      charts: [spark(), spark(), spark()], drain: button('drain'), sig: null,
    };
    const weight = button('weight');
    weight.textContent = 'Weight\u2026';
    weight.setAttribute('aria-label', 'Change the weight of ' + id);
    const remove = button('remove');
    remove.textContent = 'Remove\u2026';
    remove.setAttribute('aria-label', 'Remove ' + id);
    r.links = [r.drain, weight, remove];
    r.tr = el('tr', { 'data-pool': pool, 'data-server': id },
      r.url, el('td', { 'data-label': 'State' }, el('div', {}, r.state)), r.weight, r.inFlight, r.rps, r.errors, r.latency,
      el('td', { 'data-label': 'Last minutes', class: 'charts' }, ...r.charts.map((c) => c.svg)),
      el('td', { class: 'action', 'data-label': 'Actions' }, ...r.links));
    return r;
  }

  function drawServer(r, server, d, rate, samples) {
    const state = server.state;
    let why = '';
    if (d && d.ejected && state === 'down') why = 'ejected by passive checks' + (d.ejectedUntil ? ' ' + until(d.ejectedUntil) : '');
    else if (state === 'down') why = 'failing active health checks';
    // The API names each server's path in its links: the page follows it rather than building one.
    const self = (server.links || []).find((l) => l.rel === 'self');
    const view = {
      url: server.url, state, why, weight: String(server.weight), draining: server.draining, href: self ? self.href : null,
      inFlight: d && d.inFlight !== undefined ? String(d.inFlight) : '\u2014',
      rps: rate ? fmt(rate.rps) : '\u2014',
      errors: rate ? (rate.errors * 100).toFixed(1) + ' %' : '\u2014',
      latency: rate ? ms(rate.p50) + ' / ' + ms(rate.p99) : '\u2014',
      charts: [sparkData(samples.map((x) => x.rps), 'requests per second', ' req/s'),
        sparkData(samples.map((x) => x.errors * 100), 'error rate', ' %'),
        sparkData(samples.map((x) => x.p99 === null || x.p99 === undefined ? 0 : Math.min(x.p99, 20000)), 'p99 latency (30 s window)', ' ms')],
    };
    const sig = JSON.stringify(view);
    if (sig === r.sig) return;
    r.sig = sig;
    setText(r.url, view.url);
    setText(r.state, state);
    setAttr(r.state, 'class', 'state state-' + state);
    setText(r.why, why);
    if (why && !r.why.parentNode) r.state.after(r.why);
    else if (!why && r.why.parentNode) r.why.remove();
    setText(r.weight, view.weight);
    setText(r.inFlight, view.inFlight);
    setText(r.rps, view.rps);
    setText(r.errors, view.errors);
    setText(r.latency, view.latency);
    view.charts.forEach((c, i) => drawSpark(r.charts[i], c));
    // One button drains and undrains: it keeps the keyboard's focus when the state turns.
    const id = server.id;
    setAttr(r.drain, 'data-action', server.draining ? 'undrain' : 'drain');
    setText(r.drain, server.draining ? 'Undrain' : 'Drain');
    setAttr(r.drain, 'aria-label', (server.draining ? 'Undrain ' : 'Drain ') + id);
    for (const b of r.links) setAttr(b, 'data-href', view.href);
  }

  function showRoutes(routes) {
    const data = routes.map((r) => [r.name, r.host || '(any)', r.pathPrefix || '/', '\u2192 ' + r.pool, r.httpsRedirect ? 'redirect' : '\u2014']);
    if (!changed('routes', data)) return;
    const rows = data.map((cells) => el('tr', {}, ...cells.map((text) => el('td', { text }))));
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No routes: every request goes to the default pool.' })));
    document.querySelector('#route-table tbody').replaceChildren(...rows);
  }

  function showCertificates(certs) {
    const data = certs.map((c) => {
      const days = c.notAfter ? Math.floor((Date.parse(c.notAfter) - Date.now()) / 86400000) : null;
      const left = days === null ? (c.acme ? c.acme.state : '\u2014') : days < 0 ? 'expired' : days + (days < 14 ? ' \u26A0 soon' : '');
      return [c.name, (c.names || []).join(', '), c.source, c.notAfter || '\u2014', left];
    });
    if (!changed('certificates', data)) return;
    const rows = data.map(([name, names, source, notAfter, left]) => el('tr', { 'data-certificate': name },
      el('td', { text: name }), el('td', { text: names }), el('td', { text: source }),
      el('td', { text: notAfter }), el('td', { class: 'num', text: left })));
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
    if (!changed('events', items)) return;
    const list = $('event-list');
    list.replaceChildren(...items.map((i) => el('li', i.attrs,
      el('time', { datetime: i.iso, text: new Date(i.time).toLocaleString() }),
      el('span', { class: 'kind kind-' + i.kind, text: i.kind }),
      i.subject ? i.subject + ': ' + i.text : i.text)));
    if (!items.length) list.replaceChildren(el('li', { class: 'muted', text: 'Nothing yet.' }));
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
    const gen = generation;
    showAnswer(pending || (method + ' ' + path + ' \u2026'));
    try {
      const r = await api(method, path, body);
      if (gen !== generation) return;
      if (r.status === 401) { askToken('The token was refused: ' + (r.json && r.json.message || '')); return; }
      if (r.status === 403) document.body.classList.add('read-only');
      showAnswer(describe(method, path, r), !r.ok, r.json ? JSON.stringify(r.json, null, 1) : r.text);
    } catch (e) {
      if (gen !== generation) return;
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
