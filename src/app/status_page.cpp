#include "app/status_page.h"

namespace ddb2pg::app {

std::string_view StatusPageHtml() {
  static constexpr std::string_view kHtml = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ddb2pg status</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #5f6b7a; --line: #dde2e8;
          --ok: #1b7f4b; --warn: #a86400; --bad: #b3261e; --rows: #2f6fde; --lat: #c2410c; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; padding: 12px 16px; background: #1d2330; color: #fff; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: #b8c0cc; font-size: 13px; }
  #conn.bad { color: #ffb4ab; }
  main { padding: 12px 16px 24px; max-width: 1400px; margin: 0 auto; }
  .cols { display: grid; grid-template-columns: minmax(300px, 2fr) 3fr; gap: 0 16px; align-items: start; }
  .stack { display: grid; gap: 12px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  .card h2 { font-size: 15px; margin: 0 0 8px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .phase { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; background: #e6ecf5; }
  .phase.streaming { background: #dff3e7; color: var(--ok); }
  .phase.snapshot { background: #e3ecfb; color: var(--rows); }
  .phase.reconnecting, .phase.starting { background: #fdf0dc; color: var(--warn); }
  .phase.failed, .phase.stopped { background: #fbe3e1; color: var(--bad); }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; font-variant-numeric: tabular-nums; text-align: right; overflow-wrap: anywhere; }
  .bar { height: 8px; background: #e6ecf5; border-radius: 4px; overflow: hidden; margin: 6px 0 2px; }
  .bar > div { height: 100%; background: var(--rows); width: 0; }
  .totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; margin-bottom: 12px; }
  .total { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
  .total .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .total .k { color: var(--muted); font-size: 12px; }
  .chart { margin: 12px 0 0; }
  .chart canvas { width: 100%; height: 190px; display: block; }
  .legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); flex-wrap: wrap; }
  .legend .rows::before, .legend .lat::before { content: ""; display: inline-block; width: 12px; height: 3px; margin-right: 6px; vertical-align: middle; }
  .legend .rows::before { background: var(--rows); } .legend .lat::before { background: var(--lat); }
  h3 { font-size: 15px; margin: 14px 0 8px; }
  .dl { border-top: 1px solid var(--line); padding: 8px 0; display: grid; grid-template-columns: 180px 1fr; gap: 2px 12px; }
  .dl:first-child { border-top: 0; padding-top: 0; }
  .dl .when { color: var(--muted); font-size: 12px; }
  .dl > div { min-width: 0; }
  /* A table stays inside its card: the pipelines' names wrap; the partitions table, whose ids
     do not break well, scrolls inside its card. */
  #runners, #pipelines { overflow-x: auto; }
  .parts { border-collapse: collapse; font-size: 12px; margin-top: 6px; width: 100%; }
  .parts th, .parts td { text-align: left; padding: 2px 8px 2px 0; border-top: 1px solid var(--line); white-space: nowrap; }
  #pipelines .parts td { white-space: normal; overflow-wrap: anywhere; }
  .dl .pipeline { font-weight: 600; overflow-wrap: anywhere; }
  .dl .reason { color: var(--bad); overflow-wrap: anywhere; }
  .dl .item { grid-column: 2; font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; color: #3b4452; background: #f2f4f7;
              padding: 4px 6px; border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 4.2em; overflow: auto; }
  .empty { color: var(--muted); }
  @media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
  @media (max-width: 600px) {
    main { padding: 8px; }
    .dl { grid-template-columns: 1fr; }
    .dl .item { grid-column: 1; }
    .chart canvas { height: 170px; }
  }
</style>
</head>
<body>
<header>
  <h1>ddb2pg</h1>
  <span class="meta" id="version"></span>
  <span class="meta" id="updated">connecting…</span>
  <span class="meta" id="conn"></span>
</header>
<main>
  <section class="totals" aria-label="totals">
    <div class="total"><div class="v" id="rows-total">–</div><div class="k">rows committed</div></div>
    <div class="total"><div class="v" id="rows-rate">–</div><div class="k">rows/s</div></div>
    <div class="total"><div class="v" id="latency">–</div><div class="k">commit latency (last)</div></div>
    <div class="total"><div class="v" id="lag">–</div><div class="k">behind (oldest uncommitted)</div></div>
    <div class="total"><div class="v" id="dead-total">–</div><div class="k">dead letters</div></div>
  </section>
  <section class="card chart" aria-label="rows per second and commit latency">
    <div class="legend"><span class="rows">rows/s</span><span class="lat">commit latency (ms)</span><span>last 5 minutes</span></div>
    <canvas id="chart" width="1200" height="190"></canvas>
  </section>
  <div class="cols">
    <div>
      <h3>Sources</h3>
      <section class="stack" id="sources" aria-label="sources"></section>
      <h3>Pipelines</h3>
      <section class="card" id="pipelines"><span class="empty">reading…</span></section>
      <h3>Runners and leases</h3>
      <section class="card" id="runners"><span class="empty">reading…</span></section>
    </div>
    <div>
      <h3>Latest dead letters</h3>
      <section class="card" id="dead-letters" aria-label="latest dead letters"><span class="empty">none</span></section>
    </div>
  </div>
</main>
<script src="/status.js"></script>
</body>
</html>
)html";
  return kHtml;
}

std::string_view StatusPageScript() {
  static constexpr std::string_view kScript = R"js('use strict';
// Renders /api/status. Every value is set with textContent: nothing from the server is parsed as markup.
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function num(n) { return n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'); }
function dur(s) {
  if (s === null || s === undefined) return '–';
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
}
function ms(v) { return v === null || v === undefined ? '–' : (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ms'; }

function sourceCard(s) {
  const card = el('article', 'card');
  const h = el('h2');
  h.append(el('span', null, s.name), el('span', 'phase ' + s.phase, s.phase), el('span', 'empty', 'table ' + s.table));
  card.append(h);
  const snap = s.snapshot;
  if (!snap.complete) {
    const estimate = Math.max(snap.items_estimate, snap.items_read);
    const pct = estimate > 0 ? Math.min(100, 100 * snap.items_read / estimate) : 0;
    const bar = el('div', 'bar'); const fill = el('div'); fill.style.width = pct.toFixed(1) + '%'; bar.append(fill);
    card.append(el('div', 'empty', 'snapshot ' + pct.toFixed(0) + '% — ' + num(snap.items_read) + ' of ~' + num(estimate) + ' items'), bar);
  }
  const dl = el('dl');
  const rows = [
    ['snapshot', snap.complete ? 'complete' : num(snap.items_per_s) + ' items/s, ETA ' + dur(snap.eta_s)],
    ['Scan segments', snap.segments_done + ' of ' + snap.segments + ' done'],
  ];
  if (snap.export) rows.push(['export', snap.export]);
  rows.push(
    ['shards', s.shards.active + ' active, ' + s.shards.finished + ' finished'],
    ["behind", s.lag_ms === null ? "–" : dur(s.lag_ms / 1000)],
    ['rows/s', num(s.rows_per_s)],
    ['commit latency (last)', ms(s.commit_latency_ms)],
    ['records committed', num(s.records_committed)],
    ['rows committed', num(s.rows_committed)],
    ['commits', num(s.commits)],
    ['dead letters', num(s.dead_letters)],
    ['skipped', num(s.skipped)],
    ['last commit', s.last_commit_ms ? new Date(s.last_commit_ms).toLocaleTimeString() : '–'],
  );
  for (const [k, v] of rows) dl.append(el('dt', null, k), el('dd', null, v));
  card.append(dl);
  return card;
}

// Many sources (more than GROUP_ABOVE): one row each, partitions collapsed; the fragment's
// source=NAME (a click on a name) shows that source's card, pipelines, runners and partitions.
const GROUP_ABOVE = 8;
function fragment() { return new URLSearchParams(location.hash.slice(1)); }
function chosenSource() { return fragment().get('source'); }
function sourceLink(name) {
  const params = fragment();
  params.set('source', name);
  const a = el('a', null, name);
  a.href = '#' + params.toString();
  return a;
}
function sourceTable(sources) {
  const card = el('article', 'card');
  card.setAttribute('aria-label', 'sources, one row each');
  const table = el('table', 'parts');
  const head = el('tr');
  for (const h of ['source', 'table', 'phase', 'shards active / finished', 'behind', 'rows/s', 'records committed', 'dead letters']) head.append(el('th', null, h));
  table.append(head);
  for (const s of sources) {
    const tr = el('tr');
    const name = el('td'); name.append(sourceLink(s.name)); tr.append(name);
    for (const v of [s.table, s.phase, s.shards.active + ' / ' + s.shards.finished,
                     s.lag_ms === null ? '–' : dur(s.lag_ms / 1000), num(s.rows_per_s), num(s.records_committed), num(s.dead_letters)]) {
      tr.append(el('td', null, v));
    }
    table.append(tr);
  }
  card.append(el('div', 'empty', sources.length + ' sources, partitions collapsed: choose one to see it in full'), table);
  return card;
}

function drawChart(sources) {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  // Sum rows/s over sources per second; commit latency: the slowest source.
  const byT = new Map();
  for (const s of sources) for (const [t, r, l] of s.history) {
    const k = Math.round(t / 1000); const p = byT.get(k) || { r: 0, l: null };
    p.r += r; if (l !== null) p.l = p.l === null ? l : Math.max(p.l, l); byT.set(k, p);
  }
  const now = Math.round(Date.now() / 1000), span = 300;
  const pts = [...byT.entries()].filter(([t]) => t > now - span).sort((a, b) => a[0] - b[0]);
  const padL = 48, padR = 52, padT = 10, padB = 22;
  const cw = w - padL - padR, ch = h - padT - padB;
  const maxR = Math.max(1, ...pts.map(([, p]) => p.r)) * 1.1;
  const maxL = Math.max(1, ...pts.map(([, p]) => p.l || 0)) * 1.1;
  const x = (t) => padL + cw * (1 - (now - t) / span);
  g.font = '11px system-ui, sans-serif'; g.strokeStyle = '#dde2e8'; g.fillStyle = '#5f6b7a'; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = padT + ch * i / 4;
    g.beginPath(); g.moveTo(padL, y); g.lineTo(padL + cw, y); g.stroke();
    g.textAlign = 'right'; g.fillText(num(maxR * (1 - i / 4)), padL - 6, y + 4);
    g.textAlign = 'left'; g.fillText(Math.round(maxL * (1 - i / 4)) + ' ms', padL + cw + 6, y + 4);
  }
  g.textAlign = 'center';
  for (const m of [5, 4, 3, 2, 1, 0]) g.fillText(m ? '-' + m + ' min' : 'now', padL + cw * (1 - m * 60 / span), h - 6);
  // Seconds without a commit have no latency: its line joins the seconds that have one, with a dot on each.
  const line = (color, value, max, dots) => {
    g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 2; g.beginPath(); let started = false;
    const marks = [];
    for (const [t, p] of pts) {
      const v = value(p); if (v === null) continue;
      const px = x(t), py = padT + ch * (1 - v / max);
      if (started) g.lineTo(px, py); else { g.moveTo(px, py); started = true; }
      marks.push([px, py]);
    }
    g.stroke();
    if (dots) for (const [px, py] of marks) { g.beginPath(); g.arc(px, py, 2.5, 0, 2 * Math.PI); g.fill(); }
  };
  line('#2f6fde', (p) => p.r, maxR, false);
  line('#c2410c', (p) => p.l, maxL, true);
}

function deadLetters(d) {
  const box = $('dead-letters');
  box.replaceChildren();
  if (d.error) box.append(el('div', 'reason', 'cannot read ddb2pg.dead_letters: ' + d.error));
  if (!d.latest.length) { box.append(el('span', 'empty', d.read ? 'none' : 'reading…')); return; }
  for (const x of d.latest) {
    const row = el('div', 'dl');
    const left = el('div');
    left.append(el('div', 'pipeline', x.pipeline), el('div', 'when', x.created_at + ' · ' + x.operation));
    const right = el('div');
    right.append(el('div', 'reason', x.reason), el('div', 'when', 'key ' + x.key));
    row.append(left, right, el('div', 'item', x.item));
    box.append(row);
  }
}

function pipelines(st, checkpoint) {
  const box = $('pipelines');
  box.replaceChildren();
  const ps = (st.pipelines || []).filter((p) => checkpoint === null || p.checkpoint === checkpoint);
  if (!ps.length) { box.append(el('span', 'empty', 'none yet')); return; }
  const table = el('table', 'parts');
  const head = el('tr');
  for (const h of ['pipeline', 'table', 'phase', 'snapshot', 'last sweep']) head.append(el('th', null, h));
  table.append(head);
  for (const p of ps) {
    const tr = el('tr');
    const phase = p.phase === 'snapshot' ? (p.reconcile ? 're-snapshot' : 'backfilling') : p.phase;
    const snapshot = p.phase === 'snapshot' ? p.segments_done + '/' + p.segments + ' segments' : 'complete';
    const sweep = p.swept === null ? '' : p.swept + ' rows of gone items';
    for (const v of [p.pipeline, p.target, phase, snapshot, sweep]) tr.append(el('td', null, v));
    table.append(tr);
  }
  box.append(table);
}

function runners(st, checkpoint, collapsed) {
  const box = $('runners');
  box.replaceChildren();
  const mine = (x) => checkpoint === null || x.checkpoint === checkpoint;
  const rs = (st.runners || []).filter(mine), ps = (st.partitions || []).filter(mine);
  if (!rs.length && !ps.length) { box.append(el('span', 'empty', 'none yet')); return; }
  if (collapsed) {
    // One runner serves many sources: its line once, and no partition rows until a source is chosen.
    const seen = new Set();
    for (const r of rs) {
      if (seen.has(r.runner)) continue;
      seen.add(r.runner);
      box.append(el('div', 'when', r.runner + ' · ' + r.host + ' pid ' + r.pid + ' · heartbeat ' + r.heartbeat_age_s + ' s ago'));
    }
    box.append(el('div', 'empty', ps.length + ' partitions (of ' + (st.sources || []).length + ' sources) collapsed: choose a source to list its partitions'));
    return;
  }
  for (const r of rs) {
    box.append(el('div', 'when', r.runner + ' · ' + r.host + ' pid ' + r.pid + ' · ' + r.lanes + ' lanes · heartbeat ' + r.heartbeat_age_s + ' s ago' +
                         (r.standby ? ' · standing by (a newer configuration runs)' : '')));
  }
  const table = el('table', 'parts');
  const head = el('tr');
  for (const h of ['partition', 'kind', 'state', 'lease', 'epoch', 'records', 'age (s)', 'owner', 'lane']) head.append(el('th', null, h));
  table.append(head);
  for (const p of ps) {
    const tr = el('tr');
    for (const v of [p.id, p.kind, p.state, p.lease, p.epoch, p.records, p.age_s, p.owner, p.lane]) tr.append(el('td', null, v));
    table.append(tr);
  }
  box.append(table);
}

// The page checks its own layout after each render: data-overflow on <main> lists the cards whose
// content is drawn past their border (should stay empty), data-scrolled those that scroll it
// inside instead. The browser test reads both at 1280×800 and at phone width.
function markOverflow() {
  const name = (c) => c.id || c.getAttribute('aria-label') || c.className;
  const wide = [...document.querySelectorAll('.card')].filter((c) => c.scrollWidth > c.clientWidth + 1);
  const scrolls = (c) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(c).overflowX);
  const main = document.querySelector('main');
  main.dataset.overflow = wide.filter((c) => !scrolls(c)).map(name).join(' ');
  main.dataset.scrolled = wide.filter(scrolls).map(name).join(' ');
}

let failures = 0;
async function refresh() {
  try {
    // A guarded /api/status (metrics.status_token_*) takes the token from this page's URL
    // fragment, /#token=…: the fragment never travels to the server or into its logs.
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    const response = await fetch('/api/status', { cache: 'no-store', headers });
    if (response.status === 401) throw new Error('HTTP 401: open this page as /#token=… with the status token');
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const st = await response.json();
    failures = 0;
    $('version').textContent = 'v' + st.version + ' · up ' + dur(st.uptime_s);
    $('updated').textContent = 'updated ' + new Date(st.now_ms).toLocaleTimeString();
    $('conn').textContent = ''; $('conn').className = 'meta';
    let rows = 0, rate = 0, dead = 0, lat = null, lag = null;
    for (const s of st.sources) {
      rows += s.rows_committed; rate += s.rows_per_s; dead += s.dead_letters;
      if (s.commit_latency_ms !== null) lat = Math.max(lat || 0, s.commit_latency_ms);
      if (s.lag_ms !== null) lag = Math.max(lag || 0, s.lag_ms);
    }
    $('rows-total').textContent = num(rows);
    $('rows-rate').textContent = num(rate);
    $('latency').textContent = ms(lat);
    $('lag').textContent = lag === null ? '–' : dur(lag / 1000);
    $('dead-total').textContent = num(dead);
    const grouped = st.sources.length > GROUP_ABOVE;
    const chosen = st.sources.find((s) => s.name === chosenSource()) || null;
    const checkpoint = chosen ? chosen.checkpoint : null;
    if (!grouped) {
      $('sources').replaceChildren(...st.sources.map(sourceCard));
    } else if (chosen) {
      $('sources').replaceChildren(sourceCard(chosen), sourceTable(st.sources));
    } else {
      $('sources').replaceChildren(sourceTable(st.sources));
    }
    $('sources').dataset.grouped = grouped ? 'yes' : 'no';
    drawChart(st.sources);
    deadLetters(st.dead_letters);
    pipelines(st, checkpoint);
    runners(st, checkpoint, grouped && chosen === null);
    markOverflow();
  } catch (e) {
    failures++;
    $('conn').textContent = 'no answer from ddb2pg (' + e.message + ')'; $('conn').className = 'meta bad';
  }
}
refresh();
setInterval(refresh, 1500);
window.addEventListener('hashchange', refresh);
)js";
  return kScript;
}

}  // namespace ddb2pg::app
