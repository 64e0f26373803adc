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
import { startServer } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { SqliteAccountStore } from '../../adapters/accounts/account-store-sqlite';
import { engineUrl, servicesRequired } from '../helpers/services';

const CHROMIUM = '/usr/bin/chromium';
const url = engineUrl(t, 'clickhouse');
if (url && !existsSync(CHROMIUM)) {
  if (servicesRequired()) t.fail(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  else t.plan(0, 'not run: needs Debian chromium (apt-get install chromium)');
} else if (url) {
  t.test('an analyst opens the dashboard and sees the evening\'s numbers drawn', async (t) => {
    const database = `dashboard_e2e_${process.pid}_${Date.now()}`;
    t.teardown(async () => {
      const ch = createClient({ url });
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await ch.close();
    });
    const server = await startServer({ CLICKHOUSE_URL: url, HALOBUZZ_CLICKHOUSE_DATABASE: database, HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_ANALYTICS_ROLLUP_MS: '300' });
    t.teardown(() => server.stop());
    await fetch(`${server.http}/debug/mint?user=fan1&coins=500&op=mint-fan1-${randomUUID()}`, { method: 'POST' });
    const host = server.client('creator');
    await host.connect();
    await host.join('evening', Role.HOST);
    const fan = server.client('fan1');
    await fan.connect();
    await fan.join('evening');
    await fan.chat('evening', 'hi');
    await fan.gift('evening', 'coffee', 3, randomUUID());
    await fan.leave('evening');

    const post = async (path: string, body: unknown) => (await (await fetch(`${server.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    const reg = await post('/v1/auth/register', { email: 'analyst@example.com', password: 'correct horse battery', displayName: 'Ana' });
    const noRole = await fetch(`${server.api}/v1/analytics`, { headers: { authorization: `Bearer ${(reg.tokens as { accessToken: string }).accessToken}` } });
    t.equal(noRole.status, 403, 'plain users cannot read analytics');
    const store = new SqliteAccountStore(join(server.dataDir, 'accounts.sqlite'));
    await store.setRoles((reg.user as { id: string }).id, ['user', 'analyst']);
    await store.close();
    const token = ((await post('/v1/auth/login', { email: 'analyst@example.com', password: 'correct horse battery' })).tokens as { accessToken: string }).accessToken;
    // The sink delivers every second and the rollup runs every 300 ms here; wait until both show the gift.
    const deadline = Date.now() + 15_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      const from = Math.floor(Date.now() / 1000) - 3600;
      const rows = async (q: string) => {
        const res = await fetch(`${server.api}/v1/analytics/${q}?from=${from}&to=${from + 7200}`, { headers: { authorization: `Bearer ${token}` } });
        return res.ok ? ((await res.json()) as { rows: unknown[] }).rows.length : 0;
      };
      ready = (await rows('top_gifts')) > 0 && (await rows('gift_revenue_per_creator_per_day')) > 0;
      if (!ready) await new Promise((r) => setTimeout(r, 250));
    }
    t.ok(ready, 'the events reached ClickHouse');

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
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
    t.equal(await page.locator('section').count(), 6, 'one chart per named query');
    t.equal(await page.locator('#q-top_gifts rect.bar').count() >= 1, true, 'top gifts drawn as bars');
    t.match(await page.locator('#q-top_gifts').innerText(), /coffee/, 'labelled with the gift');
    t.equal(await page.locator('#q-gift_revenue_per_creator_per_day rect.bar').count() >= 1, true, 'revenue drawn');
    t.equal(await page.locator('#q-chat_activity polyline').count(), 1, 'chat activity drawn as a line');
    t.equal(await page.locator('.error').count(), 0, 'no chart failed');
    t.same(violations, [], 'the page runs without a single CSP violation');
    const dir = join(__dirname, '..', '..', '..', '.test-output');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });
    t.ok(existsSync(join(dir, 'dashboard.png')), 'screenshot saved to .test-output/dashboard.png');
    host.close();
    fan.close();
  });
}
