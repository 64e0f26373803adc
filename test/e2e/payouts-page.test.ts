/**
 * The payouts admin page in a real headless Chromium: totals match the admin API, the queue lists the
 * withdrawal waiting for approval, approving it from the page moves it to "in flight", and the page runs
 * under its strict CSP. Saves .test-output/payouts.png.
 */
import { accessibilityViolations } from '../helpers/axe';
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { chromium } from 'playwright-core';
import { startServer } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { setRoles } from '../helpers/accounts';
import { engineUrl, servicesRequired } from '../helpers/services';

const CHROMIUM = '/usr/bin/chromium';
const stripeUrl = engineUrl(t, 'stripe');
const CONNECT_SECRET = `whsec_${randomUUID().replace(/-/g, '')}`;
if (stripeUrl && !existsSync(CHROMIUM)) {
  if (servicesRequired()) t.fail(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  else t.plan(0, 'not run: needs Debian chromium (apt-get install chromium)');
} else if (stripeUrl) {
  t.test('an admin reads the payout totals and approves a withdrawal from the page', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-payouts-page-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const policyFile = join(dir, 'payouts.json');
    writeFileSync(policyFile, JSON.stringify({
      version: 'test', holdDays: 0, rates: { date: '2026-11-25', perCoinMinor: { USD: 0.5, EUR: 0.46, NPR: 67 } },
      limits: { minCoins: 100, maxCoins: 50_000, dailyCoins: 100_000, monthlyCoins: 1_000_000, approvalAboveCoins: 1000 },
      risk: { reversedShareForReview: 0.5, lookbackDays: 90 },
    }));
    const server = await startServer({
      STRIPE_SECRET_KEY: 'sk_test_page', STRIPE_WEBHOOK_SECRET: 'whsec_pagepagepage', STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET, HALOBUZZ_STRIPE_API_URL: stripeUrl,
      HALOBUZZ_PAYOUTS: policyFile, HALOBUZZ_DEBUG_ENDPOINTS: '1',
    });
    t.teardown(() => server.stop());
    const call = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.api}${path}`, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
      return (await res.json()) as Record<string, any>;
    };
    const user = async (name: string) => {
      const r = await call('POST', '/v1/auth/register', { email: `${name}-${randomUUID()}@example.com`, password: 'correct horse battery staple', displayName: name });
      return { id: r.user.id as string, token: r.tokens.accessToken as string, email: r.user.email as string };
    };
    const creator = await user('creator');
    const fan = await user('fan');
    await fetch(`${server.http}/debug/mint?user=${fan.id}&coins=10000&op=mint-${fan.id}`, { method: 'POST' });
    const host = server.client(creator.id, { token: creator.token });
    await host.connect();
    await host.join('page-room', Role.HOST);
    const f = server.client(fan.id, { token: fan.token });
    await f.connect();
    await f.join('page-room');
    await f.gift('page-room', 'coffee', 500, randomUUID());
    const acct = (await call('POST', '/v1/creator/payout-account', undefined, creator.token)).account.stripeAccount as string;
    const payload = JSON.stringify({ id: `evt_${randomUUID()}`, object: 'event', type: 'account.updated', created: Math.floor(Date.now() / 1000), data: { object: { id: acct, object: 'account', details_submitted: true, payouts_enabled: true, requirements: { currently_due: [] } } } });
    await call('POST', '/v1/webhooks/stripe-connect', payload, undefined, { 'stripe-signature': new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload, secret: CONNECT_SECRET }) });
    const w = (await call('POST', '/v1/creator/withdrawals', { coins: 2000, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token)).withdrawal;
    t.equal(w.status, 'pending_approval', 'above the approval amount');
    const admin = await user('admin');
    await setRoles(server, admin.id, ['user', 'admin']);
    const token = (await call('POST', '/v1/auth/login', { email: admin.email, password: 'correct horse battery staple' })).tokens.accessToken as string;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const response = await page.goto(`${server.api}/admin/payouts#token=${token}`);
    t.match(response?.headers()['content-security-policy'] ?? '', /script-src 'sha256-/, 'strict CSP');
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    const summary = await call('GET', '/v1/admin/payouts/summary', undefined, token);
    const card = (title: string) => page.locator(`.card[data-title="${title}"] .value`).innerText();
    t.equal(await card('owed to creators'), `${summary.owedCoins.toLocaleString('en-US')} coins`, 'owed matches the API');
    t.equal(await card('waiting for approval'), '2,000 coins');
    t.equal(await page.locator(`#queue tr[data-id="${w.id}"]`).count(), 1, 'the withdrawal is in the queue');
    await page.locator(`#queue tr[data-id="${w.id}"] button.approve`).click();
    // Locators, not an evaluated predicate: the page's CSP forbids eval, as it should.
    await page.locator(`#queue tr[data-id="${w.id}"]`).waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    t.equal(await card('in flight'), '2,000 coins', 'approved from the page: now in flight');
    t.equal((await call('GET', '/v1/creator/withdrawals', undefined, creator.token)).withdrawals[0].status, 'transferred', 'and the transfer was made');
    t.same(violations, [], 'no CSP violation');
    const out = join(__dirname, '..', '..', '..', '.test-output');
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: join(out, 'payouts.png'), fullPage: true });
    t.ok(existsSync(join(out, 'payouts.png')));
    t.same(await accessibilityViolations(page), [], 'WCAG 2.1 AA (axe-core)');
    host.close();
    f.close();
  });
}
