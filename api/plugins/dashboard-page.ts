/**
 * The dashboard: one static page. It keeps an analyst's access token in sessionStorage, fetches every
 * named query for the chosen window (presets or a from/to picker), optional room and time zone (UTC or the
 * browser's), and draws each as an SVG chart from the query's chart spec: y ticks at 1-2-5 steps (whole
 * numbers for counts) that bars and points are scaled to, counts and coins on separate axes, axis titles,
 * a tooltip on every bar and point, creators by display name in a legend, and a table view and CSV
 * download for every query. No build step and no third-party script: it must work from the API alone.
 * Languages: the page carries every locale's messages (config/locales/dashboard) as JSON and formats them
 * itself (ICU arguments and plurals with the browser's Intl); `?lang=`, the choice saved in the page, or
 * the browser's languages pick one; Arabic turns the page right to left (charts stay left to right).
 */
import { createHash } from 'node:crypto';

const PAGE = `<!doctype html>
<html lang="en" dir="ltr"><head><meta charset="utf-8"><title>HaloBuzz analytics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f6f7fb; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0 12px 0 0; }
  header input, header select, header button { font-size: 13px; padding: 4px 6px; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(640px, 1fr)); gap: 16px; padding: 16px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; overflow-x: auto; }
  section .title { display: flex; align-items: center; gap: 10px; }
  section h2 { font-size: 15px; margin: 0 auto 4px 0; } section p { font-size: 12px; color: #667; margin: 0 0 8px; }
  .toggle, .csv { font-size: 12px; border: 1px solid #ccd; border-radius: 4px; padding: 2px 8px; background: #fff; color: #1d2330; text-decoration: none; cursor: pointer; }
  .empty { color: #5c636a; font-size: 13px; padding: 40px 0; text-align: center; } .error { color: #c92a2a; }
  svg text { font-size: 11px; fill: #445; } svg .axis-title { font-size: 12px; fill: #223; font-weight: 600; }
  svg .grid { stroke: #e9ecef; } svg .baseline { stroke: #868e96; }
  svg rect.bar:hover, svg circle.point:hover { opacity: 0.75; }
  .legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; margin-block: 4px 0; margin-inline-start: 60px; }
  svg { direction: ltr; }
  .legend-item { display: inline-flex; align-items: center; gap: 6px; }
  .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
  .c0 { background: #1c7ed6; } .c1 { background: #d6336c; } .c2 { background: #37b24d; } .c3 { background: #f59f00; } .c4 { background: #7048e8; } .c5 { background: #0ca678; } .c6 { background: #e8590c; } .c7 { background: #495057; }
  table.data { border-collapse: collapse; font-size: 12px; margin-top: 6px; }
  table.data th, table.data td { border-bottom: 1px solid #e9ecef; padding: 3px 8px; text-align: end; white-space: nowrap; }
  table.data th { background: #f1f3f5; }
</style></head>
<body>
<header>
  <h1 data-i18n="page.title">HaloBuzz analytics</h1>
  <label><span data-i18n="page.language">Language</span> <select id="lang"></select></label>
  <label><span data-i18n="page.token">Token</span> <input id="token" type="password" size="24" data-i18n-placeholder="page.tokenPlaceholder" placeholder="analyst access token"></label>
  <label><span data-i18n="page.range">Range</span> <select id="preset"><option value="3600" data-i18n="page.lastHour">last hour</option><option value="86400" selected data-i18n="page.last24h">last 24 h</option><option value="604800" data-i18n="page.last7d">last 7 days</option><option value="custom" data-i18n="page.custom">custom</option></select></label>
  <label><span data-i18n="page.from">From</span> <input id="from" type="datetime-local"></label>
  <label><span data-i18n="page.to">To</span> <input id="to" type="datetime-local"></label>
  <label><span data-i18n="page.room">Room</span> <input id="room" size="12" data-i18n-placeholder="page.allRooms" placeholder="all rooms"></label>
  <label><span data-i18n="page.timeZone">Time zone</span> <select id="tz"><option value="UTC" selected>UTC</option><option value="local">browser</option></select></label>
  <button id="go" data-i18n="page.show">Show</button>
  <span id="status"></span>
</header>
<main id="charts"></main>
<script type="application/json" id="i18n">__MESSAGES__</script>
<script>
const $ = (id) => document.getElementById(id);
function html(tag, attrs, text) { const e = document.createElement(tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
const pad = (n) => String(n).padStart(2, '0');
const local = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
const BROWSER_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';

/** Messages of every shipped language; the chosen one: ?lang=, the saved choice, the browser's, English. */
const I18N = JSON.parse($('i18n').textContent);
function pickLang() {
  const wanted = [new URLSearchParams(location.search).get('lang'), localStorage.getItem('hbLang')].concat(navigator.languages || []);
  for (const w of wanted) { const base = String(w || '').toLowerCase().split('-')[0]; if (I18N[base]) return base; }
  return 'en';
}
let LANG = pickLang();
/** The ICU subset the catalogs use: {name} and {n, plural, =0 {…} one {…} other {…}} with #. */
function icu(text, values) {
  let out = '', i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '{') { out += c; i++; continue; }
    let depth = 1, j = i + 1;
    while (j < text.length && depth > 0) { if (text[j] === '{') depth++; else if (text[j] === '}') depth--; j++; }
    const inner = text.slice(i + 1, j - 1);
    const parts = inner.split(',');
    const name = parts[0].trim();
    if (parts.length >= 3 && parts[1].trim() === 'plural') {
      const n = Number(values[name]);
      const forms = {}, body = parts.slice(2).join(',');
      const re = /\\s*(=?\\w+)\\s*\\{/g;
      let m;
      while ((m = re.exec(body))) {
        let d = 1, k = re.lastIndex;
        while (k < body.length && d > 0) { if (body[k] === '{') d++; else if (body[k] === '}') d--; k++; }
        forms[m[1]] = body.slice(re.lastIndex, k - 1);
        re.lastIndex = k;
      }
      const form = forms['=' + n] !== undefined ? forms['=' + n] : (forms[new Intl.PluralRules(LANG).select(n)] !== undefined ? forms[new Intl.PluralRules(LANG).select(n)] : forms.other);
      out += icu(form || '', values).split('#').join(n.toLocaleString(LANG));
    } else {
      const v = values[name];
      out += typeof v === 'number' ? v.toLocaleString(LANG) : String(v === undefined ? '' : v);
    }
    i = j;
  }
  return out;
}
function t(key, values) {
  const m = I18N[LANG].messages[key] !== undefined ? I18N[LANG].messages[key] : I18N.en.messages[key];
  return icu(m === undefined ? key : m, values || {});
}
function applyLanguage() {
  document.documentElement.lang = LANG;
  document.documentElement.dir = I18N[LANG].dir;
  document.title = t('page.title');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  $('tz').options[1].textContent = t('page.browserZone', { zone: BROWSER_TZ });
}
for (const code of Object.keys(I18N)) {
  const o = html('option', { value: code, lang: code }, I18N[code].messages['page.languageName']);
  $('lang').append(o);
}
$('lang').value = LANG;
applyLanguage();
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
const COLORS = ['#1c7ed6', '#d6336c', '#37b24d', '#f59f00', '#7048e8', '#0ca678', '#e8590c', '#495057'];
const unitTitle = (unit) => t('page.unit.' + unit);
function el(tag, attrs, text) { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
const num = (v) => Number(v);
const fmt = (v) => num(v).toLocaleString(LANG, { maximumFractionDigits: 2 });
/** Dates in the page's language (English as en-GB: day before month, 24-hour clock). */
const dateLocale = () => (LANG === 'en' ? 'en-GB' : LANG);
const zone = () => ($('tz').value === 'UTC' ? 'UTC' : undefined);
const zoneName = () => ($('tz').value === 'UTC' ? 'UTC' : BROWSER_TZ);

/** Axis scale: ticks at 1, 2 or 5 times a power of ten (whole numbers for whole data), the top a tick. */
function scale(top, whole) {
  top = Math.max(top, whole ? 1 : 0.000001);
  const raw = top / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  if (whole) step = Math.max(1, Math.round(step));
  const max = Math.ceil(top / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= max + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return { max, ticks };
}

/** A time label that fits: UTC days by their date; else hours and minutes inside a day, the date beyond, in the chosen zone. */
function timeLabel(sec, span, day) {
  if (day) return new Intl.DateTimeFormat(dateLocale(), { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(new Date(sec * 1000));
  const opts = { timeZone: zone(), hourCycle: 'h23' };
  if (span <= 86400) Object.assign(opts, { hour: '2-digit', minute: '2-digit' });
  else if (span <= 3 * 86400) Object.assign(opts, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  else Object.assign(opts, { month: 'short', day: 'numeric' });
  return new Intl.DateTimeFormat(dateLocale(), opts).format(new Date(sec * 1000));
}
function fullTime(sec) {
  return new Intl.DateTimeFormat(dateLocale(), { timeZone: zone(), dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(sec * 1000)) + ' ' + zoneName();
}

/** Rows → x categories and series (split by a column when the spec says so), with display labels. */
function shape(spec, rows, names, span) {
  const x = spec.x;
  const label = (col, v) => (spec.users && spec.users.includes(col) ? (names[v] || v) : String(v));
  const xs = [];
  for (const r of rows) if (!xs.some((v) => v === r[x.column])) xs.push(r[x.column]);
  // Day buckets are UTC days: labelled by date. Revenue switches to days beyond two days.
  const day = x.day || (x.time && span > 2 * 86400 && rows.every((r) => num(r[x.column]) % 86400 === 0));
  const xLabel = (v) => (x.time ? timeLabel(num(v), span, day) : label(x.column, v));
  const xFull = (v) => (x.time ? fullTime(num(v)) : label(x.column, v));
  let series;
  if (spec.splitBy) {
    const s0 = spec.series[0];
    const keys = [];
    for (const r of rows) if (!keys.includes(r[spec.splitBy])) keys.push(r[spec.splitBy]);
    series = keys.map((k) => ({ name: label(spec.splitBy, k) + ' — ' + s0.label, key: String(k), unit: s0.unit,
      values: xs.map((xv) => { const r = rows.find((row) => row[x.column] === xv && row[spec.splitBy] === k); return r ? num(r[s0.column]) : 0; }) }));
  } else {
    series = spec.series.map((s) => ({ name: s.label, key: s.column, unit: s.unit, values: xs.map((xv) => num(rows.find((r) => r[x.column] === xv)[s.column])) }));
  }
  return { xs, xLabel, xFull, series, day };
}

/** Seconds the chosen zone is ahead of UTC at sec (0 for UTC; +5:45 in Kathmandu). */
function zoneOffset(sec) { return zone() === 'UTC' ? 0 : -new Date(sec * 1000).getTimezoneOffset() * 60; }

/** Time ticks at a readable step (1 min … 1 week), on whole minutes, hours or days of the chosen zone. */
function timeTicks(from, to) {
  const span = to - from;
  const step = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].find((s) => span / s <= 6) || 604800;
  const off = zoneOffset(from);
  const ticks = [];
  for (let t = Math.ceil((from + off) / step) * step - off; t <= to; t += step) ticks.push(t);
  return ticks;
}

function draw(spec, data, from, to, title) {
  const span = to - from;
  const units = [...new Set(data.series.map((s) => s.unit))];
  const W = 600, T = 16, R = units.length > 1 ? 60 : 16, L = 60;
  // A timeline places time buckets where they fall in the window; UTC-day and category charts are categorical.
  const timeline = spec.x.time && !data.day;
  const bucket = spec.x.bucket || (span <= 2 * 86400 ? 3600 : 86400);
  const labels = data.xs.map(data.xLabel);
  const rotate = !spec.x.time && labels.some((l) => l.length > 8);
  const B = rotate ? 40 + Math.min(90, 6 * Math.max(...labels.map((l) => l.length))) : 46;
  const H = 230 + B, pw = W - L - R, ph = H - T - B;
  const svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': t('page.chartLabel', { title }) });
  const axes = units.map((u, i) => {
    const vals = data.series.filter((s) => s.unit === u).flatMap((s) => s.values);
    const whole = vals.every((v) => Number.isInteger(v));
    return { unit: u, side: i === 0 ? 'left' : 'right', ...scale(Math.max(0, ...vals), whole) };
  });
  const y = (axis, v) => T + ph - (v / axis.max) * ph;
  for (const a of axes) {
    const g = el('g', { class: 'axis axis-' + a.side, 'data-unit': a.unit });
    for (const v of a.ticks) {
      const yy = y(a, v);
      if (a.side === 'left') g.append(el('line', { x1: L, x2: L + pw, y1: yy, y2: yy, class: 'grid' }));
      g.append(el('text', { class: 'tick', 'data-value': String(v), 'data-y': String(yy), x: a.side === 'left' ? L - 6 : L + pw + 6, y: yy + 4, 'text-anchor': a.side === 'left' ? 'end' : 'start' }, fmt(v)));
    }
    const tx = a.side === 'left' ? 14 : W - 8;
    g.append(el('text', { class: 'axis-title', x: tx, y: T + ph / 2, transform: 'rotate(-90 ' + tx + ' ' + (T + ph / 2) + ')', 'text-anchor': 'middle' }, units.length > 1 ? t(a.side === 'left' ? 'page.axisLeft' : 'page.axisRight', { unit: unitTitle(a.unit) }) : unitTitle(a.unit)));
    svg.append(g);
  }
  svg.append(el('line', { x1: L, x2: L + pw, y1: T + ph, y2: T + ph, class: 'baseline' }));
  const axisOf = (s) => axes.find((a) => a.unit === s.unit);
  const n = data.xs.length;
  const at = (sec) => L + ((sec - from) / span) * pw;
  let xpos, slot;
  if (timeline) {
    // A bucket's mark sits at its middle (a minute's value at its end for step lines).
    xpos = (i) => at(num(data.xs[i]) + (spec.x.step ? bucket : bucket / 2));
    slot = (bucket / span) * pw;
  } else if (spec.kind === 'line') {
    xpos = (i) => L + (n > 1 ? (i * pw) / (n - 1) : pw / 2);
    slot = pw / Math.max(1, n);
  } else {
    xpos = (i) => L + (i + 0.5) * (pw / n);
    slot = pw / n;
  }
  data.series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const a = axisOf(s);
    if (spec.kind === 'line') {
      const pts = [];
      s.values.forEach((v, i) => {
        // A step line holds each value until the next change (concurrent viewers do not glide).
        if (spec.x.step && i > 0) pts.push(xpos(i) + ',' + y(a, s.values[i - 1]));
        pts.push(xpos(i) + ',' + y(a, v));
      });
      svg.append(el('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
      s.values.forEach((v, i) => {
        const c = el('circle', { class: 'point', cx: xpos(i), cy: y(a, v), r: 3.5, fill: color, 'data-series': s.key, 'data-unit': s.unit, 'data-x': String(data.xs[i]), 'data-value': String(v) });
        c.append(el('title', {}, data.xFull(data.xs[i]) + ' — ' + s.name + ': ' + fmt(v)));
        svg.append(c);
      });
    } else {
      const bw = Math.max(2, Math.min(40, (slot * 0.8) / data.series.length));
      s.values.forEach((v, i) => {
        const x0 = xpos(i) - (bw * data.series.length) / 2 + si * bw;
        const r = el('rect', { class: 'bar', x: x0, y: y(a, v), width: Math.max(1, bw - 1), height: T + ph - y(a, v), fill: color, 'data-series': s.key, 'data-unit': s.unit, 'data-x': String(data.xs[i]), 'data-value': String(v) });
        r.append(el('title', {}, data.xFull(data.xs[i]) + ' — ' + s.name + ': ' + fmt(v)));
        svg.append(r);
      });
    }
  });
  const ly = T + ph + 16;
  if (timeline) {
    for (const t of timeTicks(from, to)) {
      svg.append(el('line', { x1: at(t), x2: at(t), y1: T + ph, y2: T + ph + 4, class: 'baseline' }));
      svg.append(el('text', { class: 'xlabel', x: at(t), y: ly, 'text-anchor': 'middle', 'data-time': String(t) }, timeLabel(t, span, false)));
    }
  } else {
    // Categories: every label, rotated when long (never cut); UTC days: a fitting subset.
    const every = spec.x.time ? Math.max(1, Math.ceil(n / 6)) : 1;
    labels.forEach((lab, i) => {
      if (i % every !== 0) return;
      const lx = xpos(i);
      svg.append(el('text', rotate ? { class: 'xlabel', x: lx, y: ly, 'text-anchor': 'end', transform: 'rotate(-35 ' + lx + ' ' + ly + ')' } : { class: 'xlabel', x: lx, y: ly, 'text-anchor': 'middle' }, lab));
    });
  }
  svg.append(el('text', { class: 'axis-title', x: L + pw / 2, y: H - 6, 'text-anchor': 'middle' }, spec.x.label + (spec.x.time ? ' (' + (data.day ? t('page.utcDays') : zoneName()) + ')' : '')));
  const legend = html('div', { class: 'legend' });
  data.series.forEach((s, si) => {
    const item = html('span', { class: 'legend-item' });
    item.append(html('i', { class: 'swatch c' + (si % COLORS.length) }), document.createTextNode(units.length > 1 ? t('page.seriesAxis', { series: s.name, unit: unitTitle(s.unit) }) : s.name));
    legend.append(item);
  });
  return [svg, legend];
}

/** The rows as a table: times in the chosen zone, users by display name; raw values stay in CSV. */
function table(spec, rows, names) {
  const t = html('table', { class: 'data' });
  const cols = Object.keys(rows[0]);
  const head = html('tr');
  for (const c of cols) head.append(html('th', {}, c));
  t.append(head);
  const timeCols = new Set(['started', 'ended'].concat(spec.x && spec.x.time ? [spec.x.column] : []));
  for (const r of rows) {
    const tr = html('tr');
    for (const c of cols) {
      let v = r[c];
      if (timeCols.has(c)) v = fullTime(num(v));
      else if (spec.users && spec.users.includes(c)) v = names[v] || v;
      tr.append(html('td', {}, String(v)));
    }
    t.append(tr);
  }
  return t;
}

function csv(spec, rows, names) {
  const cols = Object.keys(rows[0]);
  const extra = (spec.users || []).filter((c) => cols.includes(c));
  const q = (v) => { const s = String(v); return /[",\\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
  const lines = [cols.concat(extra.map((c) => c + '_name')).join(',')];
  for (const r of rows) lines.push(cols.map((c) => q(r[c])).concat(extra.map((c) => q(names[r[c]] || r[c]))).join(','));
  return lines.join('\\n') + '\\n';
}

/** Each show() supersedes the one before: a stale run stops at its next await instead of drawing twice. */
let generation = 0;
async function show() {
  const mine = ++generation;
  const token = $('token').value.trim();
  sessionStorage.setItem('hbToken', token);
  document.body.dataset.ready = '0';
  const from = Math.floor(new Date($('from').value).getTime() / 1000), to = Math.floor(new Date($('to').value).getTime() / 1000);
  const room = $('room').value.trim();
  const headers = { authorization: 'Bearer ' + token };
  $('status').textContent = t('page.loading');
  headers['accept-language'] = LANG;
  const list = await fetch('/v1/analytics?lang=' + LANG, { headers });
  if (mine !== generation) return;
  if (!list.ok) { $('status').textContent = (await list.json()).error.message; $('status').className = 'error'; return; }
  const { queries } = await list.json();
  if (mine !== generation) return;
  const charts = $('charts');
  charts.replaceChildren();
  for (const q of queries) {
    const box = html('section', { id: 'q-' + q.name, 'data-kind': q.chart.kind });
    const bar = html('div', { class: 'title' });
    bar.append(html('h2', {}, q.title));
    box.append(bar, html('p', {}, q.description));
    charts.append(box);
    const res = await fetch('/v1/analytics/' + q.name + '?from=' + from + '&to=' + to + (room ? '&room=' + encodeURIComponent(room) : ''), { headers });
    const body = await res.json();
    if (mine !== generation) return;
    if (!res.ok) { box.append(html('div', { class: 'error' }, body.error.message)); continue; }
    if (body.rows.length === 0) { box.append(html('div', { class: 'empty' }, t('page.noData'))); continue; }
    const tbl = table(q.chart, body.rows, body.names);
    if (q.chart.kind !== 'table') {
      const [svg, legend] = draw(q.chart, shape(q.chart, body.rows, body.names, to - from), from, to, q.title);
      const view = html('div', { class: 'chart' });
      view.append(svg, legend);
      box.append(view);
      tbl.hidden = true;
      const toggle = html('button', { class: 'toggle', type: 'button' }, t('page.table'));
      toggle.onclick = () => { tbl.hidden = !tbl.hidden; view.hidden = !tbl.hidden; toggle.textContent = tbl.hidden ? t('page.table') : t('page.chart'); };
      bar.append(toggle);
    }
    box.append(tbl);
    const download = html('a', { class: 'csv', download: q.name + '-' + from + '-' + to + '.csv', href: 'data:text/csv;charset=utf-8,' + encodeURIComponent(csv(q.chart, body.rows, body.names)) }, t('page.csv'));
    bar.append(download);
  }
  $('status').textContent = t('page.updated', { time: new Date().toLocaleTimeString(dateLocale(), { hourCycle: 'h23' }), count: queries.length, zone: zoneName() });
  $('status').className = '';
  document.body.dataset.ready = '1';
}
const run = () => show().catch((e) => { $('status').textContent = String(e); $('status').className = 'error'; });
$('go').onclick = run;
$('lang').onchange = () => {
  LANG = $('lang').value;
  localStorage.setItem('hbLang', LANG);
  applyLanguage();
  if ($('token').value) run();
};
$('tz').onchange = run;
if ($('token').value) run();
</script>
</body></html>`;

/**
 * A page's Content-Security-Policy: its one inline script and one inline style are allowed by their
 * SHA-256 hashes (computed from the page itself, so they never drift), everything else by origin only:
 * fetches to this API, SVG and data: images; no other script, frame, form target or plugin.
 */
export function strictCsp(html: string): string {
  const hash = (tag: 'script' | 'style') => {
    const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
    if (!match) throw new Error(`the page has no inline ${tag}`);
    return `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`;
  };
  return [
    "default-src 'none'", `script-src ${hash('script')}`, `style-src ${hash('style')}`, "connect-src 'self'",
    "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The page with every locale's messages in it (`raw` of the dashboard catalog) and its CSP. The messages
 * are a JSON block, not a script: the CSP's hash covers only the page's one script, which never changes.
 */
export function dashboardPage(messages: Record<string, { dir: 'ltr' | 'rtl'; messages: Record<string, string> }>): { html: string; csp: string } {
  // '<' escaped so no message can close the JSON block.
  const json = JSON.stringify(messages).replace(/</g, '\\u003c');
  const html = PAGE.replace('__MESSAGES__', () => json);
  return { html, csp: strictCsp(html) };
}
