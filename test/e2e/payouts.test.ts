/**
 * Creators get paid, end to end on the real server: gifts earn coins, the earnings view and CSV statement
 * add up to the ledger, the hold passes on a test clock (no sleeping), Stripe Connect onboarding flips
 * payouts on by a signed `account.updated`, withdrawals are refused outside the rules and move coins once
 * (also under 50 parallel attempts), payout.paid / payout.failed / transfer.reversed settle them, large and
 * risky ones wait for an admin, and a SIGKILL between "coins set aside" and "transfer created" is resumed at
 * restart, never lost and never paid twice. Conservation after every part, on SQLite and FerretDB.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { startServer, waitFor, type ServerHandle } from '../../tools/server-process';
import { engineUrl } from '../helpers/services';
import { Role } from '../../protocol/codes';
import { setRoles } from '../helpers/accounts';
import type { LedgerTotals } from '../../adapters/ledger/ledger';

const stripeUrl = engineUrl(t, 'stripe');
const mongoUrl = engineUrl(t, 'mongodb');
const PAYMENTS_SECRET = `whsec_${randomUUID().replace(/-/g, '')}`;
const CONNECT_SECRET = `whsec_${randomUUID().replace(/-/g, '')}`;
const signer = new Stripe('sk_test_signer');
const DAY = 86_400_000;

function suite(label: string, extraEnv: Record<string, string>): void {
  t.test(`${label}: earnings, onboarding, the hold, limits, settlement, approvals, risk, a crash mid-withdrawal; conservation throughout`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-payouts-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const policyFile = join(dir, 'payouts.json');
    writeFileSync(policyFile, JSON.stringify({
      version: 'test', holdDays: 14, rates: { date: '2026-11-25', perCoinMinor: { USD: 0.5, EUR: 0.46, NPR: 67 } },
      limits: { minCoins: 100, maxCoins: 5000, dailyCoins: 6000, monthlyCoins: 20000, approvalAboveCoins: 3000 },
      risk: { reversedShareForReview: 0.2, lookbackDays: 90 },
    }));
    const dataDir = join(dir, 'data');
    const env = {
      STRIPE_SECRET_KEY: 'sk_test_halobuzz', STRIPE_WEBHOOK_SECRET: PAYMENTS_SECRET, STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
      HALOBUZZ_STRIPE_API_URL: stripeUrl!, HALOBUZZ_PAYOUTS: policyFile, HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_API_RATE_LIMIT: '100000',
      HALOBUZZ_GIFT_PER_SECOND: '1000', HALOBUZZ_GIFT_BURST: '1000', ...extraEnv,
    };
    let server: ServerHandle = await startServer(env, dataDir);
    t.teardown(() => server.stop());
    const call = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.api}${path}`, {
        method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, text, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, any> };
    };
    const user = async (name: string) => {
      const r = await call('POST', '/v1/auth/register', { email: `${name}-${randomUUID()}@example.com`, password: 'correct horse battery staple', displayName: name });
      return { id: r.body.user.id as string, token: r.body.tokens.accessToken as string, email: r.body.user.email as string };
    };
    const signed = (secret: string, type: string, object: Record<string, unknown>, account?: string) => {
      const payload = JSON.stringify({ id: `evt_${randomUUID()}`, object: 'event', type, created: Math.floor(Date.now() / 1000), ...(account ? { account } : {}), data: { object } });
      return { payload, header: signer.webhooks.generateTestHeaderString({ payload, secret }) };
    };
    const connectHook = async (type: string, object: Record<string, unknown>, account?: string) => {
      const e = signed(CONNECT_SECRET, type, object, account);
      return call('POST', '/v1/webhooks/stripe-connect', e.payload, undefined, { 'stripe-signature': e.header });
    };
    const totals = async () => (await (await fetch(`${server.http}/debug/ledger/totals`)).json()) as LedgerTotals;
    const conserved = async (what: string) => {
      const x = await totals();
      t.equal(x.held, x.issued, `${what}: held ${x.held} = issued ${x.issued}`);
      t.equal(x.negativeAccounts, 0, `${what}: nobody below zero`);
    };
    const advance = async (ms: number) => call('POST', '/debug/clock', { advanceMs: ms });
    const earnings = async (token: string, q = '') => (await call('GET', `/v1/creator/earnings?from=0&to=${Date.now() + 400 * DAY}${q}`, undefined, token)).body;

    // Gifts in a live room earn the creator 70% of every price.
    const creator = await user('creator');
    const fans = [await user('fan1'), await user('fan2')];
    for (const f of fans) await fetch(`${server.http}/debug/mint?user=${f.id}&coins=10000&op=mint-${f.id}`, { method: 'POST' });
    const host = server.client(creator.id, { token: creator.token });
    await host.connect();
    await host.join('payday', Role.HOST);
    for (const f of fans) {
      const c = server.client(f.id, { token: f.token });
      await c.connect();
      await c.join('payday');
      await c.gift('payday', 'coffee', 500, randomUUID());
      await c.gift('payday', 'rose', 100, randomUUID());
      c.close();
    }
    const view = await earnings(creator.token, '&group=gift');
    t.same(view.totals, { gifts: 4, grossCoins: 10_200, platformCoins: 3_060, creatorCoins: 7_140, payoutMinor: 3_570 }, 'totals: gross, platform share, creator part, USD value (0.5 cents a coin)');
    t.same(view.rows.map((r: { key: string; creatorCoins: number }) => [r.key, r.creatorCoins]), [['coffee', 7_000], ['rose', 140]]);
    t.match(view.balance, { earnedCoins: 7_140, pendingCoins: 7_140, availableCoins: 0 }, 'all on hold at first');
    t.equal((await earnings(creator.token, '&group=stream')).rows.length, 1, 'one stream');
    const csv = (await call('GET', `/v1/creator/earnings/statement.csv?from=0&to=${Date.now() + DAY}`, undefined, creator.token)).text.trim().split('\n');
    t.equal(csv.length, 5, 'a header and four gift lines');
    t.equal(csv.slice(1).reduce((n, l) => n + Number(l.split(',').at(-1)), 0), 7_140, 'the statement adds up to what was earned');
    t.equal((await host.wallet()).balance, 7_140, 'and to the ledger balance');

    // Refused before KYC; onboarding; refused until Stripe enables payouts.
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 1000, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 409, body: { error: { code: 'HB_API_PAYOUTS_NOT_ENABLED' } } }, 'no payout account yet');
    const onboard = await call('POST', '/v1/creator/payout-account', undefined, creator.token);
    t.match(onboard, { status: 200, body: { account: { payoutsEnabled: false }, onboardingUrl: /^https:\/\// } });
    const acct = onboard.body.account.stripeAccount as string;
    t.equal((await call('POST', '/v1/creator/payout-account', undefined, creator.token)).body.account.stripeAccount, acct, 'one account per creator; a fresh link each time');
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 1000, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 409, body: { error: { code: 'HB_API_PAYOUTS_NOT_ENABLED' } } }, 'not before Stripe enables payouts');
    const forged = signed('whsec_forgedforgedforged', 'account.updated', { id: acct, object: 'account', details_submitted: true, payouts_enabled: true, requirements: { currently_due: [] } });
    t.match(await call('POST', '/v1/webhooks/stripe-connect', forged.payload, undefined, { 'stripe-signature': forged.header }), { status: 400, body: { error: { code: 'HB_API_WEBHOOK_REFUSED' } } }, 'a forged account.updated changes nothing');
    t.match(await connectHook('account.updated', { id: acct, object: 'account', details_submitted: true, payouts_enabled: true, requirements: { currently_due: [], disabled_reason: null } }), { body: { outcome: 'payouts_enabled' } });
    t.match((await call('GET', '/v1/creator/payout-account', undefined, creator.token)).body.account, { payoutsEnabled: true, detailsSubmitted: true, requirementsDue: [] });

    // The hold, then the limits.
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 1000, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 409, body: { error: { code: 'HB_API_NOT_WITHDRAWABLE', message: /14-day hold/ } } }, 'nothing during the hold');
    await advance(15 * DAY);
    t.match((await earnings(creator.token)).balance, { pendingCoins: 0, availableCoins: 7_140 }, 'after the hold (test clock), all available');
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 50, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 400, body: { error: { code: 'HB_API_WITHDRAWAL_LIMIT' } } }, 'below the minimum');
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 6000, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 400, body: { error: { code: 'HB_API_WITHDRAWAL_LIMIT' } } }, 'above the maximum');

    // 50 parallel requests: one withdrawal, coins moved once.
    const storm = await Promise.all(Array.from({ length: 50 }, () => call('POST', '/v1/creator/withdrawals', { coins: 2000, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token)));
    t.equal(storm.filter((r) => r.status === 201).length, 1, 'one of 50 parallel requests made a withdrawal');
    t.ok(storm.filter((r) => r.status !== 201).every((r) => r.body.error?.code === 'HB_API_WITHDRAWAL_OPEN'), 'the others: a withdrawal is already open');
    const w1 = storm.find((r) => r.status === 201)!.body.withdrawal;
    t.match(w1, { coins: 2000, currency: 'USD', amountMinor: 1000, status: 'transferred' }, 'within the approval amount: transferred at once');
    t.equal((await host.wallet()).balance, 5_140, 'the coins left the balance once');
    await conserved('after the storm');
    t.match(await connectHook('payout.paid', { id: 'po_1', object: 'payout', metadata: { withdrawal: w1.id } }, acct), { body: { outcome: 'paid' } });
    t.match(await connectHook('payout.paid', { id: 'po_1', object: 'payout', metadata: { withdrawal: w1.id } }, acct), { body: { outcome: 'paid' } }, 'a repeated payout.paid (new event id) settles nothing more');
    await conserved('after payout.paid');
    t.match((await totals()).issued, 20_000 - 2000, 'the paid coins left the system');

    // payout.failed gives the coins back.
    const w2op = `op-${randomUUID()}`;
    const w2 = (await call('POST', '/v1/creator/withdrawals', { coins: 1000, currency: 'EUR', opId: w2op }, creator.token)).body.withdrawal;
    t.match(w2, { status: 'transferred', amountMinor: 460, currency: 'EUR' });
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 1000, currency: 'EUR', opId: w2op }, creator.token), { status: 201, body: { replayed: true, withdrawal: { id: w2.id } } }, 'a retried request answers the same withdrawal');
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 900, currency: 'EUR', opId: w2op }, creator.token), { status: 409, body: { error: { code: 'HB_API_OP_ID_REUSED' } } }, 'the same op id for another amount is refused');
    t.equal((await host.wallet()).balance, 4_140, 'and moved nothing more');
    t.match(await connectHook('payout.failed', { id: 'po_2', object: 'payout', failure_message: 'account closed', metadata: { withdrawal: w2.id } }, acct), { body: { outcome: 'failed' } });
    t.equal((await host.wallet()).balance, 5_140, 'a failed payout returns its coins');
    await conserved('after payout.failed');

    // Above the approval amount: an admin decides; rejected coins come back; approved then reversed come back.
    const admin = await user('admin');
    await setRoles(server, admin.id, ['user', 'admin']);
    const adminToken = (await call('POST', '/v1/auth/login', { email: admin.email, password: 'correct horse battery staple' })).body.tokens.accessToken as string;
    const w3 = (await call('POST', '/v1/creator/withdrawals', { coins: 3500, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token)).body.withdrawal;
    t.match(w3, { status: 'pending_approval' });
    t.equal((await call('GET', '/v1/admin/withdrawals', undefined, adminToken)).body.withdrawals.length, 1, 'the admin queue shows it');
    t.equal((await call('POST', `/v1/admin/withdrawals/${w3.id}/approve`, undefined, creator.token)).status, 403, 'admins only');
    t.match(await call('POST', `/v1/admin/withdrawals/${w3.id}/reject`, { reason: 'needs a tax form' }, adminToken), { status: 200, body: { withdrawal: { status: 'rejected', reason: 'needs a tax form' } } });
    t.match(await call('POST', `/v1/admin/withdrawals/${w3.id}/approve`, undefined, adminToken), { status: 409, body: { error: { code: 'HB_API_WITHDRAWAL_STATE' } } }, 'decided once');
    t.equal((await host.wallet()).balance, 5_140);
    const w4 = (await call('POST', '/v1/creator/withdrawals', { coins: 3200, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token)).body.withdrawal;
    t.match(await call('POST', `/v1/admin/withdrawals/${w4.id}/approve`, undefined, adminToken), { body: { withdrawal: { status: 'transferred' } } });
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 500, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 409, body: { error: { code: 'HB_API_WITHDRAWAL_OPEN' } } }, 'a second open request is refused');
    t.match(await connectHook('transfer.reversed', { id: 'tr_4', object: 'transfer', metadata: { withdrawal: w4.id } }), { body: { outcome: 'reversed' } });
    t.equal((await host.wallet()).balance, 5_140, 'a reversed transfer returns its coins');
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 4500, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token), { status: 400, body: { error: { code: 'HB_API_WITHDRAWAL_LIMIT', message: /a day/ } } }, 'the daily cap counts what was paid (2000) and open');
    const summary = (await call('GET', '/v1/admin/payouts/summary', undefined, adminToken)).body;
    t.match(summary, { owedCoins: 5_140, paid: { count: 1, coins: 2000 }, failed: { count: 2, coins: 4200 }, pendingApproval: { count: 0 } });
    await conserved('after the admin decisions');

    // Risk: earnings mostly from a buyer whose purchase was refunded go to review.
    const creator2 = await user('creator2');
    const buyer = await user('buyer');
    const bought = (await call('POST', '/v1/purchases', { package: 'coins_6500', currency: 'USD' }, buyer.token)).body;
    const pay = (type: string, object: Record<string, unknown>) => {
      const e = signed(PAYMENTS_SECRET, type, object);
      return call('POST', '/v1/webhooks/stripe', e.payload, undefined, { 'stripe-signature': e.header });
    };
    await pay('payment_intent.succeeded', { id: bought.paymentIntent, object: 'payment_intent', amount: 4999, amount_received: 4999, currency: 'usd', status: 'succeeded' });
    const host2 = server.client(creator2.id, { token: creator2.token });
    await host2.connect();
    await host2.join('risky', Role.HOST);
    const b = server.client(buyer.id, { token: buyer.token });
    await b.connect();
    await b.join('risky');
    await b.gift('risky', 'coffee', 500, randomUUID());
    b.close();
    await pay('charge.refunded', { id: 'ch_r', object: 'charge', payment_intent: bought.paymentIntent, amount: 4999, amount_refunded: 4999, refunded: true, currency: 'usd' });
    const acct2 = (await call('POST', '/v1/creator/payout-account', undefined, creator2.token)).body.account.stripeAccount as string;
    await connectHook('account.updated', { id: acct2, object: 'account', details_submitted: true, payouts_enabled: true, requirements: { currently_due: [] } });
    await advance(15 * DAY);
    t.match(await call('POST', '/v1/creator/withdrawals', { coins: 4000, currency: 'USD', opId: `op-${randomUUID()}` }, creator2.token),
      { status: 409, body: { error: { code: 'HB_API_NOT_WITHDRAWABLE', detail: { availableCoins: 3500 } } } }, 'more than is available is refused');
    const risky = (await call('POST', '/v1/creator/withdrawals', { coins: 1000, currency: 'USD', opId: `op-${randomUUID()}` }, creator2.token)).body.withdrawal;
    t.match(risky, { status: 'review', reason: /reversed/ }, 'sent to review, with the reason');
    t.match(await call('POST', `/v1/admin/withdrawals/${risky.id}/approve`, undefined, adminToken), { body: { withdrawal: { status: 'transferred' } } }, 'a person may still approve it');
    await conserved('after the risky withdrawal');
    host2.close();
    host.close();

    // A SIGKILL right after the coins were set aside: the next start resumes the withdrawal, once.
    t.equal(await server.stop(), 0);
    server = await startServer({ ...env, HALOBUZZ_DEBUG_CRASH_POINT: 'withdraw:after-hold' }, dataDir);
    await advance(31 * DAY);
    const crashed = await call('POST', '/v1/creator/withdrawals', { coins: 1500, currency: 'USD', opId: `op-${randomUUID()}` }, creator.token).catch((err: Error) => ({ status: 0, text: err.message, body: {} }));
    t.equal(crashed.status, 0, 'the server died mid-request');
    await waitFor('the server process gone', () => server.child.exitCode !== null || server.child.signalCode !== null, 10_000);
    server = await startServer(env, dataDir);
    const list = (await call('GET', '/v1/creator/withdrawals', undefined, creator.token)).body.withdrawals as { coins: number; status: string; id: string }[];
    const resumed = list.find((w) => w.coins === 1500)!;
    t.match(resumed, { status: 'transferred' }, 'resumed at start: transferred, not lost');
    t.equal(list.filter((w) => w.coins === 1500).length, 1, 'one withdrawal');
    const fresh = server.client(creator.id, { token: creator.token });
    await fresh.connect();
    t.equal((await fresh.wallet()).balance, 5_140 - 1500, 'its coins moved exactly once');
    fresh.close();
    await conserved('after the crash and resume');
    t.match(await connectHook('payout.paid', { id: 'po_5', object: 'payout', metadata: { withdrawal: resumed.id } }, acct), { body: { outcome: 'paid' } });
    await conserved('after the resumed withdrawal was paid');
  });
}

if (stripeUrl) {
  suite('SQLite ledger', {});
  if (mongoUrl) suite('FerretDB ledger', { MONGODB_URL: mongoUrl.replace(/\/[^/]*$/, `/payouts_${process.pid}_${Date.now()}`) });
}
