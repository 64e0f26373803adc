/**
 * The dashboard: one static page. It keeps an analyst's access token in sessionStorage, fetches every
 * named query for the chosen window (presets or a from/to picker) and optional room, and draws each as an
 * SVG line or bar chart. No build step and no third-party script: it must work from the API alone.
 */
import { createHash } from 'node:crypto';

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HaloBuzz analytics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f6f7fb; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0 12px 0 0; }
  header input, header select, header button { font-size: 13px; padding: 4px 6px; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; padding: 16px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; }
  section h2 { font-size: 15px; margin: 0 0 4px; } section p { font-size: 12px; color: #667; margin: 0 0 8px; }
  .empty { color: #999; font-size: 13px; padding: 40px 0; text-align: center; } .error { color: #c92a2a; }
  svg text { font-size: 10px; fill: #556; }
</style></head>
<body>
<header>
  <h1>HaloBuzz analytics</h1>
  <label>Token <input id="token" type="password" size="24" placeholder="analyst access token"></label>
  <label>Range <select id="preset"><option value="3600">last hour</option><option value="86400" selected>last 24 h</option><option value="604800">last 7 days</option><option value="custom">custom</option></select></label>
  <label>From <input id="from" type="datetime-local"></label>
  <label>To <input id="to" type="datetime-local"></label>
  <label>Room <input id="room" size="12" placeholder="all rooms"></label>
  <button id="go">Show</button>
  <span id="status"></span>
</header>
<main id="charts"></main>
<script>
const $ = (id) => document.getElementById(id);
const pad = (n) => String(n).padStart(2, '0');
const local = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
$('token').value = sessionStorage.getItem('hbToken') || new URLSearchParams(location.hash.slice(1)).get('token') || '';
function applyPreset() {
  const p = $('preset').value;
  if (p === 'custom') return;
  const to = new Date(Date.now() + 60000);
  $('to').value = local(to);
  $('from').value = local(new Date(to.getTime() - Number(p) * 1000));
}
$('preset').onchange = applyPreset;
applyPreset();
const NS = 'http://www.w3.org/2000/svg';
function el(tag, attrs, text) { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
function draw(kind, labels, series) {
  const W = 440, H = 220, L = 44, B = 40, T = 10, R = 10, pw = W - L - R, ph = H - T - B;
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const mag = Math.pow(10, Math.floor(Math.log10(top)));
  const max = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((m) => m >= top) || top;
  const tick = (v) => (max < 10 ? String(Math.round(v * 10) / 10) : String(Math.round(v)));
  const svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'data-points': String(labels.length) });
  for (let i = 0; i <= 4; i++) { const y = T + ph - (ph * i) / 4; svg.append(el('line', { x1: L, x2: L + pw, y1: y, y2: y, stroke: '#eee' }), el('text', { x: L - 4, y: y + 3, 'text-anchor': 'end' }, tick((max * i) / 4))); }
  const colors = ['#d6336c', '#1c7ed6', '#37b24d', '#f59f00'];
  const step = labels.length > 1 ? pw / (labels.length - (kind === 'bar' ? 0 : 1)) : pw;
  series.forEach((s, si) => {
    if (kind === 'line') {
      const pts = s.values.map((v, i) => (L + (labels.length > 1 ? i * step : pw / 2)) + ',' + (T + ph - (v / max) * ph)).join(' ');
      svg.append(el('polyline', { points: pts, fill: 'none', stroke: colors[si % 4], 'stroke-width': 2 }));
      s.values.forEach((v, i) => svg.append(el('circle', { cx: L + (labels.length > 1 ? i * step : pw / 2), cy: T + ph - (v / max) * ph, r: 2.5, fill: colors[si % 4] })));
    } else {
      const bw = Math.max(2, step / series.length - 4);
      s.values.forEach((v, i) => svg.append(el('rect', { class: 'bar', x: L + i * step + si * (bw + 2) + 2, y: T + ph - (v / max) * ph, width: bw, height: (v / max) * ph, fill: colors[si % 4] })));
    }
  });
  const every = Math.ceil(labels.length / 8);
  labels.forEach((lab, i) => { if (i % every === 0) svg.append(el('text', { x: L + (kind === 'bar' ? i * step + step / 2 : (labels.length > 1 ? i * step : pw / 2)), y: H - 22, 'text-anchor': 'middle' }, String(lab).length > 18 ? String(lab).slice(0, 17) + '…' : String(lab))); });
  series.forEach((s, si) => svg.append(el('text', { x: L + si * 120, y: H - 6, fill: colors[si % 4] }, '■ ' + s.name)));
  return svg;
}
const NUMERIC = (k) => !['minute', 'date', 'creator', 'gift_id', 'bucket', 'room'].includes(k);
async function show() {
  const token = $('token').value.trim();
  sessionStorage.setItem('hbToken', token);
  const from = Math.floor(new Date($('from').value).getTime() / 1000), to = Math.floor(new Date($('to').value).getTime() / 1000);
  const room = $('room').value.trim();
  const headers = { authorization: 'Bearer ' + token };
  $('status').textContent = 'loading…';
  const list = await fetch('/v1/analytics', { headers });
  if (!list.ok) { $('status').textContent = (await list.json()).error.message; $('status').className = 'error'; return; }
  const { queries } = await list.json();
  const charts = $('charts');
  charts.replaceChildren();
  for (const q of queries) {
    const box = document.createElement('section');
    box.id = 'q-' + q.name;
    box.innerHTML = '<h2></h2><p></p>';
    box.querySelector('h2').textContent = q.title;
    box.querySelector('p').textContent = q.description;
    charts.append(box);
    const res = await fetch('/v1/analytics/' + q.name + '?from=' + from + '&to=' + to + (room ? '&room=' + encodeURIComponent(room) : ''), { headers });
    const body = await res.json();
    if (!res.ok) { const d = document.createElement('div'); d.className = 'error'; d.textContent = body.error.message; box.append(d); continue; }
    if (body.rows.length === 0) { const d = document.createElement('div'); d.className = 'empty'; d.textContent = 'no data in this window'; box.append(d); continue; }
    const keys = Object.keys(body.rows[0]);
    const labelKeys = keys.filter((k) => !NUMERIC(k));
    const labels = body.rows.map((r) => labelKeys.map((k) => r[k]).join(' '));
    const series = keys.filter(NUMERIC).map((k) => ({ name: k, values: body.rows.map((r) => Number(r[k])) }));
    box.append(draw(q.chart, labels, series));
  }
  $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  $('status').className = '';
  document.body.dataset.ready = '1';
}
$('go').onclick = () => show().catch((e) => { $('status').textContent = String(e); $('status').className = 'error'; });
if ($('token').value) $('go').click();
</script>
</body></html>`;

/**
 * The dashboard's Content-Security-Policy: its one inline script and one inline style are allowed by
 * their SHA-256 hashes (computed from the page itself, so they never drift), everything else by origin
 * only: fetches to this API, SVG and data: images; no other script, frame, form target or plugin.
 */
function inlineHash(tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(DASHBOARD_HTML);
  if (!match) throw new Error(`the dashboard page has no inline ${tag}`);
  return `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`;
}

export const DASHBOARD_CSP = [
  "default-src 'none'", `script-src ${inlineHash('script')}`, `style-src ${inlineHash('style')}`, "connect-src 'self'",
  "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');
