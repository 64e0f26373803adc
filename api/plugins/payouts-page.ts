/**
 * The payouts admin page: totals owed to creators and withdrawals by state, the queue of withdrawals
 * waiting for a person (approve, or reject with a reason) and the failed ones. The analytics dashboard's
 * style and strict CSP; data from the admin payout routes only.
 */
import { strictCsp } from './dashboard-page';

export const PAYOUTS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HaloBuzz payouts</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f6f7fb; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0 12px 0 0; } header input, header button { font-size: 13px; padding: 4px 6px; }
  main { padding: 16px; display: grid; gap: 16px; }
  #cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
  .card, section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; }
  .card h3 { font-size: 13px; margin: 0; color: #556; font-weight: 600; } .card .value { font-size: 22px; margin: 6px 0 2px; } .card p { margin: 0; font-size: 12px; color: #5c636a; }
  section h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; font-size: 12px; width: 100%; } th, td { border-bottom: 1px solid #e9ecef; padding: 4px 8px; text-align: left; white-space: nowrap; }
  th { background: #f1f3f5; } td.num { text-align: right; } td.empty { color: #5c636a; text-align: center; }
  button.approve { background: #2b8a3e; color: #fff; border: 0; border-radius: 4px; padding: 2px 8px; margin-right: 4px; }
  button.reject { background: #c92a2a; color: #fff; border: 0; border-radius: 4px; padding: 2px 8px; }
  .error { color: #ffa8a8; }
</style></head>
<body>
<header>
  <h1>HaloBuzz payouts</h1>
  <label>Token <input id="token" type="password" size="24" placeholder="admin access token"></label>
  <button id="go">Show</button>
  <span id="status"></span>
</header>
<main>
  <div id="cards"></div>
  <section><h2>Waiting for a decision (approval or risk review)</h2><table id="queue"></table></section>
  <section><h2>Failed or reversed payouts (coins returned to the creator)</h2><table id="failed"></table></section>
</main>
<script>
const $ = (id) => document.getElementById(id);
$('token').value = sessionStorage.getItem('hbAdminToken') || new URLSearchParams(location.hash.slice(1)).get('token') || '';
const fmt = (n) => Number(n).toLocaleString('en-US');
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.append(td); return td; }
async function call(method, path, body) {
  const res = await fetch(path, { method, headers: { authorization: 'Bearer ' + $('token').value.trim(), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error ? json.error.code + ': ' + json.error.message : String(res.status));
  return json;
}
function table(id, rows, actions) {
  const t = $(id);
  t.replaceChildren();
  const head = document.createElement('tr');
  for (const h of ['withdrawal', 'creator', 'coins', 'payout', 'status', 'reason', 'requested (UTC)', actions ? 'decision' : 'decided by']) { const th = document.createElement('th'); th.textContent = h; head.append(th); }
  t.append(head);
  if (rows.length === 0) { const tr = document.createElement('tr'); cell(tr, 'none', 'empty').colSpan = 8; t.append(tr); return; }
  for (const w of rows) {
    const tr = document.createElement('tr');
    tr.dataset.id = w.id;
    cell(tr, w.id); cell(tr, w.user); cell(tr, fmt(w.coins), 'num'); cell(tr, w.currency + ' ' + (w.amountMinor / 100).toFixed(2), 'num');
    cell(tr, w.status); cell(tr, w.reason); cell(tr, new Date(w.createdAt).toISOString().replace('T', ' ').slice(0, 16));
    const last = cell(tr, actions ? '' : w.decidedBy);
    if (actions) {
      const ok = document.createElement('button'); ok.textContent = 'approve'; ok.className = 'approve';
      ok.onclick = () => call('POST', '/v1/admin/withdrawals/' + w.id + '/approve').then(load, show);
      const no = document.createElement('button'); no.textContent = 'reject'; no.className = 'reject';
      no.onclick = () => { const reason = prompt('Why is this withdrawal rejected?'); if (reason) call('POST', '/v1/admin/withdrawals/' + w.id + '/reject', { reason }).then(load, show); };
      last.append(ok, no);
    }
    t.append(tr);
  }
}
function show(err) { $('status').textContent = String(err.message || err); $('status').className = 'error'; }
async function load() {
  sessionStorage.setItem('hbAdminToken', $('token').value.trim());
  document.body.dataset.ready = '0';
  const s = await call('GET', '/v1/admin/payouts/summary');
  const many = (n) => n + (n === 1 ? ' withdrawal' : ' withdrawals');
  const cards = [['owed to creators', s.owedCoins, 'earned, not withdrawn (in flight not included)'], ['waiting for approval', s.pendingApproval.coins, many(s.pendingApproval.count)],
    ['in review (risk)', s.review.coins, many(s.review.count)], ['in flight', s.inFlight.coins, many(s.inFlight.count)],
    ['failed or reversed', s.failed.coins, many(s.failed.count)], ['paid', s.paid.coins, many(s.paid.count)]];
  $('cards').replaceChildren(...cards.map(([title, coins, sub]) => {
    const d = document.createElement('div'); d.className = 'card'; d.dataset.title = title;
    const h = document.createElement('h3'); h.textContent = title;
    const v = document.createElement('div'); v.className = 'value'; v.textContent = fmt(coins) + ' coins';
    const p = document.createElement('p'); p.textContent = sub;
    d.append(h, v, p); return d;
  }));
  table('queue', (await call('GET', '/v1/admin/withdrawals?status=pending_approval,review')).withdrawals, true);
  table('failed', (await call('GET', '/v1/admin/withdrawals?status=failed,reversed')).withdrawals, false);
  $('status').textContent = 'updated ' + new Date().toISOString().slice(11, 19) + ' UTC'; $('status').className = '';
  document.body.dataset.ready = '1';
}
$('go').onclick = () => load().catch(show);
if ($('token').value) load().catch(show);
</script>
</body></html>`;

export const PAYOUTS_PAGE_CSP = strictCsp(PAYOUTS_PAGE);
