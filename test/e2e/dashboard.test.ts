/**
 * The analytics dashboard in a real headless Chromium: a scripted session on a server writing to
 * ClickHouse, an analyst signs in, the page draws every named query; the test checks the charts carry the
 * session's data and saves a screenshot (.test-output/dashboard.png).
 */
import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { chromium } from 'playwright-core';
import { startServer, waitFor } from '../../tools/server-process';
import type { ChartSpec } from '../../adapters/analytics/analyst-queries';
import { Role } from '../../protocol/codes';
import { setRoles } from '../helpers/accounts';
import { engineUrl, servicesRequired } from '../helpers/services';
import { accessibilityViolations } from '../helpers/axe';

const CHROMIUM = '/usr/bin/chromium';
const url = engineUrl(t, 'clickhouse');
if (url && !existsSync(CHROMIUM)) {
  if (servicesRequired()) t.fail(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  else t.plan(0, 'not run: needs Debian chromium (apt-get install chromium)');
} else if (url) {
  t.test('an analyst opens the dashboard and reads the evening: values, axes, names, tables and CSV match the API', async (t) => {
    const database = `dashboard_e2e_${process.pid}_${Date.now()}`;
    t.teardown(async () => {
      const ch = createClient({ url });
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await ch.close();
    });
    const server = await startServer({ CLICKHOUSE_URL: url, HALOBUZZ_CLICKHOUSE_DATABASE: database, HALOBUZZ_DEBUG_ENDPOINTS: '1' });
    t.teardown(() => server.stop());
    const post = async (path: string, body: unknown) => (await (await fetch(`${server.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    // The creator is a registered account: the dashboard shows creators by display name.
    const creator = await post('/v1/auth/register', { email: 'cat@example.com', password: 'correct horse battery', displayName: 'Creator Cat' });
    const creatorId = (creator.user as { id: string }).id;
    await fetch(`${server.http}/debug/mint?user=fan1&coins=500&op=mint-fan1-${randomUUID()}`, { method: 'POST' });
    const host = server.client(creatorId);
    await host.connect();
    await host.join('evening', Role.HOST);
    const fan = server.client('fan1', { client: { platform: 'android', app: '4.1.0', country: 'NP' } });
    await fan.connect();
    await fan.join('evening');
    await fan.chat('evening', 'hi');
    await fan.gift('evening', 'coffee', 3, randomUUID());
    await fan.leave('evening');

    const reg = await post('/v1/auth/register', { email: 'analyst@example.com', password: 'correct horse battery', displayName: 'Ana' });
    const noRole = await fetch(`${server.api}/v1/analytics`, { headers: { authorization: `Bearer ${(reg.tokens as { accessToken: string }).accessToken}` } });
    t.equal(noRole.status, 403, 'plain users cannot read analytics');
    await setRoles(server, (reg.user as { id: string }).id, ['user', 'analyst']);
    const token = ((await post('/v1/auth/login', { email: 'analyst@example.com', password: 'correct horse battery' })).tokens as { accessToken: string }).accessToken;
    const auth = { authorization: `Bearer ${token}` };
    const from = Math.floor(Date.now() / 1000) - 1800;
    const to = from + 3600;
    const api = async (q: string) => (await (await fetch(`${server.api}/v1/analytics/${q}?from=${from}&to=${to}`, { headers: auth })).json()) as { rows: Record<string, unknown>[]; names: Record<string, string> };
    await waitFor('the evening in ClickHouse', async () => (await api('top_gifts')).rows.length > 0 && (await api('viewers_by_platform')).rows.length > 0, 15_000);
    const { queries } = (await (await fetch(`${server.api}/v1/analytics`, { headers: auth })).json()) as { queries: { name: string; chart: ChartSpec }[] };

    const browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const response = await page.goto(`${server.api}/dashboard#token=${token}`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    t.match(csp, /default-src 'none'/, 'the dashboard is served with a strict CSP');
    t.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/, 'its script is allowed by hash only');
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'no unsafe sources');
    // The exact window the API was asked about, in the page's own pickers (local time of the browser).
    await page.selectOption('#preset', 'custom');
    const local = (sec: number) => {
      const d = new Date(sec * 1000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    await page.fill('#from', local(from));
    await page.fill('#to', local(to));
    await page.click('#go');
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    t.equal(await page.locator('section').count(), queries.length, 'one section per named query');
    t.equal(await page.locator('.error').count(), 0, 'no query failed');

    const apiFrom = from - (from % 60);
    const apiTo = to - (to % 60);
    const exact = async (q: string) => (await (await fetch(`${server.api}/v1/analytics/${q}?from=${apiFrom}&to=${apiTo}`, { headers: auth })).json()) as { rows: Record<string, unknown>[]; names: Record<string, string> };
    for (const q of queries.filter((x) => x.chart.kind !== 'table')) {
      const { rows } = await exact(q.name);
      if (rows.length === 0) continue;
      const columns = q.chart.splitBy ? [q.chart.series![0]!.column] : q.chart.series!.map((s) => s.column);
      const expected = rows.flatMap((r) => columns.map((c) => Number(r[c]))).filter((v) => v !== 0).sort((a, b) => a - b);
      const drawn = (await page.locator(`#q-${q.name} rect.bar, #q-${q.name} circle.point`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))))).filter((v) => v !== 0).sort((a, b) => a - b);
      t.same(drawn, expected, `${q.name}: every drawn value is the API's`);
      // Bars and points sit exactly on the scale their axis's ticks show; count ticks are whole numbers.
      const geometry = await page.locator(`#q-${q.name} svg`).evaluate((svg) => {
        const axes = [...svg.querySelectorAll('g.axis')].map((g) => ({ unit: g.getAttribute('data-unit'), ticks: [...g.querySelectorAll('text.tick')].map((e) => [Number(e.getAttribute('data-value')), Number(e.getAttribute('data-y'))]) }));
        const marks = [...svg.querySelectorAll('rect.bar, circle.point')].map((e) => ({ unit: e.getAttribute('data-unit'), v: Number(e.getAttribute('data-value')), y: Number(e.getAttribute(e.tagName === 'rect' ? 'y' : 'cy')), tip: e.querySelector('title')?.textContent ?? '' }));
        return { axes, marks, axisTitles: [...svg.querySelectorAll('.axis-title')].map((e) => e.textContent) };
      });
      let misplaced = 0;
      for (const m of geometry.marks) {
        const axis = geometry.axes.find((a) => a.unit === m.unit)!;
        const [[v0, y0], [v1, y1]] = [axis.ticks[0]!, axis.ticks.at(-1)!];
        if (Math.abs(m.y - (y0! + ((m.v - v0!) * (y1! - y0!)) / (v1! - v0!))) > 0.5) misplaced++;
      }
      t.equal(misplaced, 0, `${q.name}: bars and points line up with the ticks`);
      t.ok(geometry.axes.every((a) => a.ticks.every(([v]) => a.unit !== 'count' || Number.isInteger(v))), `${q.name}: count ticks are whole numbers`);
      t.ok(geometry.marks.every((m) => m.tip.includes(m.v.toLocaleString('en-US', { maximumFractionDigits: 2 }))), `${q.name}: every bar and point has a tooltip with its value`);
      t.ok(geometry.axisTitles.length >= 2, `${q.name}: axis titles`);
      if (q.chart.x?.time) t.ok(geometry.axisTitles.some((x) => /\((UTC|UTC days)\)/.test(x ?? '')), `${q.name}: the time axis names its zone`);
      t.equal(new Set(geometry.axes.map((a) => a.unit)).size, geometry.axes.length, `${q.name}: one axis per unit (coins never share the counts' axis)`);
      const labelBoxes = await page.locator(`#q-${q.name} svg text.xlabel`).evaluateAll((els) => els.map((e) => {
        const b = (e as unknown as { getBoundingClientRect(): { left: number; right: number; top: number; bottom: number } }).getBoundingClientRect();
        return { left: b.left, right: b.right, top: b.top, bottom: b.bottom };
      }));
      const overlapping = labelBoxes.filter((b, i) => labelBoxes.slice(i + 1).some((o) => b.left < o.right - 0.5 && o.left < b.right - 0.5 && b.top < o.bottom - 0.5 && o.top < b.bottom - 0.5));
      t.same(overlapping, [], `${q.name}: x labels fit without overlapping`);
    }
    const legend = await page.locator('#q-gift_revenue_per_creator .legend').innerText();
    t.match(legend, /Creator Cat/, 'creators appear by display name in the legend');
    t.match(await page.locator('#q-viewers_by_platform svg').innerHTML(), /android/, 'the client map reached the platform breakdown');

    // Table view and CSV for every query.
    await page.locator('#q-top_gifts .toggle').click();
    t.match(await page.locator('#q-top_gifts table.data').innerText(), /coffee\s+3\s+30/, 'the table view shows the rows');
    t.equal(await page.locator('section a.csv').count(), queries.length - await page.locator('section .empty').count(), 'a CSV download on every query with data');
    const href = (await page.locator('#q-gift_revenue_per_creator a.csv').getAttribute('href')) ?? '';
    const text = decodeURIComponent(href.replace(/^data:text\/csv;charset=utf-8,/, ''));
    t.match(text, /^bucket,creator,coins,creator_coins,gifts,creator_name\n/, 'the CSV has the raw columns and the creator\'s display name');
    t.match(text, new RegExp(`,${creatorId},30,21,1,Creator Cat\\n`), 'and the row');
    t.same(violations, [], 'the page runs without a single CSP violation');
    const dir = join(__dirname, '..', '..', '..', '.test-output');
    mkdirSync(dir, { recursive: true });
    await page.locator('#q-top_gifts .toggle').click();
    await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });
    t.ok(existsSync(join(dir, 'dashboard.png')), 'screenshot saved to .test-output/dashboard.png');
    t.same(await accessibilityViolations(page), [], 'WCAG 2.1 AA (axe-core): labels, contrast, keyboard, names, with every chart drawn');

    // The same evening in Arabic: the page turns right to left, every text comes from the catalogs.
    await page.selectOption('#lang', 'ar');
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    t.equal(await page.getAttribute('html', 'dir'), 'rtl', 'Arabic is right to left');
    t.equal(await page.getAttribute('html', 'lang'), 'ar');
    t.equal(await page.locator('h1').innerText(), 'تحليلات HaloBuzz', 'the page chrome is translated');
    t.equal(await page.locator('#q-top_gifts h2').innerText(), 'أكثر الهدايا مبيعًا', 'query titles come translated from the API');
    t.match(await page.locator('#status').innerText(), /رسمًا/, 'the status line uses the Arabic plural for its chart count');
    t.equal(await page.locator('#q-top_gifts svg').evaluate((svg) => (globalThis as unknown as { getComputedStyle(e: unknown): { direction: string } }).getComputedStyle(svg).direction), 'ltr', 'charts keep their axes left to right');
    t.equal(await page.locator('.error').count(), 0);
    t.same(await accessibilityViolations(page), [], 'WCAG 2.1 AA in Arabic too');
    await page.screenshot({ path: join(dir, 'dashboard-ar.png'), fullPage: true });
    // Nepali by the URL (the choice saved in the page is overridden): Devanagari digits on the axes.
    await page.goto(`${server.api}/dashboard?lang=ne#token=${token}`);
    await page.selectOption('#preset', 'custom');
    await page.fill('#from', local(from));
    await page.fill('#to', local(to));
    await page.click('#go');
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    t.equal(await page.getAttribute('html', 'dir'), 'ltr');
    t.equal(await page.locator('#go').innerText(), 'देखाउनुहोस्');
    // As the browser writes Nepali numbers (Chromium's ICU data: Latin digits; Node's: Devanagari).
    const ticks = await page.locator('#q-top_gifts text.tick').evaluateAll((els) => els.map((e) => [e.textContent ?? '', Number(e.getAttribute('data-value')).toLocaleString('ne', { maximumFractionDigits: 2 })]));
    t.ok(ticks.length > 1 && ticks.every(([shown, nepali]) => shown === nepali), `numbers in the page language: ${ticks.map((x) => x[0]).join(' ')}`);
    host.close();
    fan.close();
  });
}
