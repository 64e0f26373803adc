/**
 * Buying coins by card end to end: the real server with its API, Stripe's API shape from stripe-mock, and
 * webhook deliveries the test signs itself (stripe-mock sends none) with Stripe's own test-header helper.
 * Every reversal path and the ugly delivery patterns (repeats, disorder, a day late, forged, tampered,
 * replayed), the debt state after a dispute of coins already gifted, 50-way concurrency; conservation is
 * checked after each part. The whole suite runs on the SQLite ledger and again on FerretDB.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import { startServer, waitFor, type ServerHandle } from '../../tools/server-process';
import { engineUrl } from '../helpers/services';
import { Role } from '../../protocol/codes';
import type { LedgerTotals } from '../../adapters/ledger/ledger';

const stripeUrl = engineUrl(t, 'stripe');
const mongoUrl = engineUrl(t, 'mongodb');
const WEBHOOK_SECRET = `whsec_${randomUUID().replace(/-/g, '')}`;
const signer = new Stripe('sk_test_signer');

interface Api {
  server: ServerHandle;
  post(path: string, body: unknown, token?: string, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  get(path: string, token: string): Promise<Record<string, unknown>>;
  /** Signs and posts a Stripe event; `at` is the signature's timestamp (seconds). */
  deliver(event: object, opts?: { at?: number; secret?: string; tamper?: (raw: string) => string }): Promise<{ status: number; body: Record<string, unknown> }>;
  user(name: string): Promise<{ id: string; token: string }>;
  totals(): Promise<LedgerTotals>;
}

async function open(env: Record<string, string>): Promise<Api> {
  const server = await startServer({
    STRIPE_SECRET_KEY: 'sk_test_halobuzz', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, HALOBUZZ_STRIPE_API_URL: stripeUrl!,
    HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_API_RATE_LIMIT: '100000', ...env,
  });
  const post = async (path: string, body: unknown, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.api}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    server, post,
    get: async (path, token) => (await (await fetch(`${server.api}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>,
    deliver: async (event, o = {}) => {
      const payload = JSON.stringify(event);
      const header = signer.webhooks.generateTestHeaderString({ payload, secret: o.secret ?? WEBHOOK_SECRET, ...(o.at ? { timestamp: o.at } : {}) });
      return post('/v1/webhooks/stripe', o.tamper ? o.tamper(payload) : payload, undefined, { 'stripe-signature': header });
    },
    user: async (name) => {
      const r = await post('/v1/auth/register', { email: `${name}-${randomUUID()}@example.com`, password: 'correct horse battery staple', displayName: name });
      return { id: (r.body.user as { id: string }).id, token: (r.body.tokens as { accessToken: string }).accessToken };
    },
    totals: async () => (await (await fetch(`${server.http}/debug/ledger/totals`)).json()) as LedgerTotals,
  };
}

let n = 0;
const event = (type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)) =>
  ({ id: `evt_${++n}_${randomUUID().slice(0, 8)}`, object: 'event', api_version: '2025-10-29', created, type, livemode: false, pending_webhooks: 1, data: { object } });
const intentObj = (pi: string, amount: number, currency: string, status = 'succeeded') => ({ id: pi, object: 'payment_intent', amount, amount_received: status === 'succeeded' ? amount : 0, currency: currency.toLowerCase(), status });
const chargeObj = (pi: string, amount: number, currency: string, refunded: boolean) => ({ id: `ch_${randomUUID().slice(0, 12)}`, object: 'charge', payment_intent: pi, amount, amount_refunded: refunded ? amount : 0, refunded, currency: currency.toLowerCase() });

function suite(label: string, env: Record<string, string>): void {
  t.test(`${label}: buying coins by card, every reversal, every bad delivery, conservation throughout`, async (t) => {
    const api = await open(env);
    t.teardown(() => api.server.stop());
    const conserved = async (debts: number, what: string) => {
      const totals = await api.totals();
      t.equal(totals.held, totals.issued, `${what}: held ${totals.held} = issued ${totals.issued}`);
      t.equal(totals.negativeAccounts, 0, `${what}: nobody below zero but debtors`);
      t.equal(totals.debts, debts, `${what}: debts ${debts}`);
    };
    const wallet = async (token: string) => (await api.get('/v1/wallet', token)) as { balance: number; debt: number };
    const buy = async (token: string, pkg: string, currency?: string) => {
      const r = await api.post('/v1/purchases', { package: pkg, ...(currency ? { currency } : {}) }, token);
      t.equal(r.status, 201, `purchase of ${pkg} ${currency ?? ''} started`);
      return r.body as { purchase: { id: string; amountMinor: number; currency: string; coins: number; status: string }; paymentIntent: string; clientSecret: string };
    };
    const fan = await api.user('fan');

    // Prices come from the catalog in each currency (stripe-mock echoes what it was sent; the server checks it).
    const prices = await (await fetch(`${api.server.api}/v1/coin-packages?country=NP`)).json() as { currency: string; packages: { id: string; price: { amountMinor: number } }[] };
    t.equal(prices.currency, 'NPR');
    const expected: Record<string, number> = { USD: 99, EUR: 91, NPR: 13400 };
    for (const currency of ['USD', 'EUR', 'NPR']) {
      const p = await buy(fan.token, 'coins_100', currency);
      t.same([p.purchase.amountMinor, p.purchase.currency, p.purchase.coins], [expected[currency], currency, 100], `coins_100 costs ${expected[currency]} ${currency}`);
      t.match(p.clientSecret, /_secret_/, 'the client secret goes back to the client');
    }
    const opId = `op-${randomUUID()}`;
    const firstTry = await api.post('/v1/purchases', { package: 'coins_100', currency: 'USD', opId }, fan.token);
    const retry = await api.post('/v1/purchases', { package: 'coins_100', currency: 'USD', opId }, fan.token);
    t.match(retry, { status: 201, body: { replayed: true, paymentIntent: firstTry.body.paymentIntent, purchase: { id: (firstTry.body.purchase as { id: string }).id } } }, 'a retried start with the op id continues the same purchase and intent');
    t.match(await api.post('/v1/purchases', { package: 'coins_550', currency: 'USD', opId }, fan.token), { status: 409, body: { error: { code: 'HB_API_OP_ID_REUSED' } } }, 'the op id for another package is refused');
    t.equal((await api.post('/v1/purchases', { package: 'coins_999' }, fan.token)).body.error && (await api.post('/v1/purchases', { package: 'coins_999' }, fan.token)).status, 404, 'an unknown package is refused');
    t.equal((await api.post('/v1/purchases', { package: 'coins_100', amount: 1 }, fan.token)).status, 400, 'an amount from the client is not even accepted');

    // Credited once: three deliveries, a day late, interleaved with other events.
    const p1 = await buy(fan.token, 'coins_550', 'USD');
    const succeeded = event('payment_intent.succeeded', intentObj(p1.paymentIntent, 499, 'USD'), Math.floor(Date.now() / 1000) - 86_400);
    t.match((await api.deliver(succeeded)).body, { received: true, outcome: 'credited' });
    t.match((await api.deliver(event('payment_intent.created', intentObj(p1.paymentIntent, 499, 'USD', 'requires_payment_method')))).body, { outcome: 'ignored' });
    t.match((await api.deliver(succeeded)).body, { outcome: 'duplicate' });
    t.match((await api.deliver(succeeded)).body, { outcome: 'duplicate' });
    t.same(await wallet(fan.token), { balance: 550, debt: 0 }, '550 coins, once');
    await conserved(0, 'after a triple delivery');

    // Refused deliveries credit nothing.
    const p2 = await buy(fan.token, 'coins_100', 'USD');
    const ok2 = event('payment_intent.succeeded', intentObj(p2.paymentIntent, 99, 'USD'));
    const forged = await api.deliver(ok2, { secret: 'whsec_forgedforgedforged' });
    const tampered = await api.deliver(ok2, { tamper: (raw) => raw.replace('"amount":99', '"amount":9999') });
    const replayed = await api.deliver(ok2, { at: Math.floor(Date.now() / 1000) - 86_400 });
    const unsigned = await api.post('/v1/webhooks/stripe', JSON.stringify(ok2), undefined);
    for (const [what, r] of [['forged', forged], ['tampered', tampered], ['replayed', replayed], ['unsigned', unsigned]] as const) {
      t.match(r, { status: 400, body: { error: { code: 'HB_API_WEBHOOK_REFUSED' } } }, `${what}: refused`);
    }
    t.same(await wallet(fan.token), { balance: 550, debt: 0 }, 'nothing credited by them');
    const metrics = await (await fetch(`${api.server.http}/metrics`)).text();
    t.match(metrics, /halobuzz_webhooks_total\{provider="stripe",outcome="refused_signature"\} 3/, 'refusals counted (forged, tampered, unsigned)');
    t.match(metrics, /halobuzz_webhooks_total\{provider="stripe",outcome="refused_timestamp"\} 1/, 'the replay counted');
    // The same event, properly signed now, still credits.
    t.match((await api.deliver(ok2)).body, { outcome: 'credited' });
    t.equal((await wallet(fan.token)).balance, 650);

    // A paid amount other than the catalog's credits nothing and is logged.
    const p3 = await buy(fan.token, 'coins_100', 'EUR');
    t.match((await api.deliver(event('payment_intent.succeeded', intentObj(p3.paymentIntent, 1, 'EUR')))).body, { outcome: 'refused' });
    t.equal((await wallet(fan.token)).balance, 650);

    // 3-D Secure: requires_action is reported; coins wait for success.
    const p4 = await buy(fan.token, 'coins_100', 'USD');
    t.match((await api.deliver(event('payment_intent.requires_action', intentObj(p4.paymentIntent, 99, 'USD', 'requires_action')))).body, { outcome: 'status' });
    const list1 = (await api.get('/v1/purchases?limit=100', fan.token)) as { purchases: { id: string; status: string }[] };
    t.equal(list1.purchases.find((p) => p.id === p4.purchase.id)?.status, 'requires_action', 'the purchase waits for the customer');
    t.equal((await wallet(fan.token)).balance, 650, 'no coins before success');
    await api.deliver(event('payment_intent.succeeded', intentObj(p4.paymentIntent, 99, 'USD')));
    t.equal((await wallet(fan.token)).balance, 750, 'credited after the challenge succeeded');

    // Radar review, delivered before the success: the coins are held until the review closes.
    const p5 = await buy(fan.token, 'coins_100', 'USD');
    t.match((await api.deliver(event('review.opened', { id: 'prv_1', object: 'review', payment_intent: p5.paymentIntent, reason: 'rule', open: true }))).body, { outcome: 'held' });
    await api.deliver(event('payment_intent.succeeded', intentObj(p5.paymentIntent, 99, 'USD')));
    t.equal((await wallet(fan.token)).balance, 750, 'held: not spendable');
    await conserved(0, 'during a review');
    t.match((await api.deliver(event('review.closed', { id: 'prv_1', object: 'review', payment_intent: p5.paymentIntent, closed_reason: 'approved', open: false }))).body, { outcome: 'released' });
    t.equal((await wallet(fan.token)).balance, 850, 'released');

    // Early fraud warning: refunded at Stripe and clawed back, once.
    const p6 = await buy(fan.token, 'coins_100', 'USD');
    await api.deliver(event('payment_intent.succeeded', intentObj(p6.paymentIntent, 99, 'USD')));
    t.equal((await wallet(fan.token)).balance, 950);
    const efw = event('radar.early_fraud_warning.created', { id: 'issfr_1', object: 'radar.early_fraud_warning', payment_intent: p6.paymentIntent, charge: 'ch_x', fraud_type: 'made_with_stolen_card' });
    t.match((await api.deliver(efw)).body, { outcome: 'clawed_back' });
    // Stripe's own charge.refunded follows the refund: nothing more.
    t.match((await api.deliver(event('charge.refunded', chargeObj(p6.paymentIntent, 99, 'USD', true)))).body, { outcome: 'clawed_back' });
    t.equal((await wallet(fan.token)).balance, 850, 'the 100 coins went back once');
    await conserved(0, 'after a fraud warning');

    // A dispute after the coins were gifted: debt, spending blocked, conservation; a won dispute reinstates.
    const host = await api.user('host');
    const hostSocket = api.server.client(host.id, { token: host.token });
    await hostSocket.connect();
    await hostSocket.join('shop-room', Role.HOST);
    const fanSocket = api.server.client(fan.id, { token: fan.token });
    await fanSocket.connect();
    await fanSocket.join('shop-room');
    const p7 = await buy(fan.token, 'coins_1200', 'USD');
    await api.deliver(event('payment_intent.succeeded', intentObj(p7.paymentIntent, 999, 'USD')));
    t.equal((await wallet(fan.token)).balance, 2050);
    // coffee costs 10: 200 of them spend 2000 of the 2050.
    await fanSocket.gift('shop-room', 'coffee', 200, randomUUID());
    t.equal((await wallet(fan.token)).balance, 50);
    t.match((await api.deliver(event('charge.dispute.created', { id: 'dp_1', object: 'dispute', payment_intent: p7.paymentIntent, amount: 999, currency: 'usd', status: 'needs_response' }))).body, { outcome: 'clawed_back' });
    t.same(await wallet(fan.token), { balance: 0, debt: 1150 }, 'the fan owes what was gifted away');
    await conserved(1150, 'in debt');
    await t.rejects(fanSocket.gift('shop-room', 'rose', 1, randomUUID()), { code: 208 }, 'spending is blocked: ACCOUNT_IN_DEBT');
    t.match(await fanSocket.wallet(), { balance: 0, debt: 1150 }, 'the socket WALLET says so too');
    t.match((await api.deliver(event('charge.dispute.closed', { id: 'dp_1', object: 'dispute', payment_intent: p7.paymentIntent, amount: 999, currency: 'usd', status: 'won' }))).body, { outcome: 'reinstated' });
    t.same(await wallet(fan.token), { balance: 50, debt: 0 }, 'a won dispute gives the coins back');
    await conserved(0, 'after the dispute was won');
    const history = (await api.get('/v1/purchases', fan.token)) as { purchases: { id: string; status: string; reason: string }[] };
    t.match(history.purchases.find((p) => p.id === p7.purchase.id), { status: 'reinstated', reason: 'dispute_won' });
    t.match(history.purchases.find((p) => p.id === p6.purchase.id), { status: 'reversed', reason: 'early_fraud_warning' });

    // Concurrency: one event delivered 50 times at once; 50 purchases by one user at once.
    const p8 = await buy(fan.token, 'coins_100', 'USD');
    const storm = event('payment_intent.succeeded', intentObj(p8.paymentIntent, 99, 'USD'));
    const stormResults = await Promise.all(Array.from({ length: 50 }, () => api.deliver(storm)));
    t.ok(stormResults.every((r) => r.status === 200 || r.status === 503), 'each delivery answered 200 (or 503: deliver again)');
    await api.deliver(storm);
    t.equal((await wallet(fan.token)).balance, 150, '50 simultaneous deliveries credit once');
    const many = await Promise.all(Array.from({ length: 50 }, () => buy(fan.token, 'coins_100', 'USD')));
    await Promise.all(many.map((p) => api.deliver(event('payment_intent.succeeded', intentObj(p.paymentIntent, 99, 'USD')))));
    await waitFor('every parallel purchase credited', async () => (await wallet(fan.token)).balance === 150 + 50 * 100, 30_000);
    await conserved(0, 'after 50 parallel purchases');

    // Money events reach analytics (the embedded NDJSON sink here), once each, with amounts and currency.
    const analyticsDir = join(api.server.dataDir, 'analytics');
    // The sink may be appending while we read: only lines already ended by a newline are complete.
    const completeLines = (text: string) => text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
    const events = () => readdirSync(analyticsDir).filter((f) => f.startsWith('events-')).flatMap((f) => completeLines(readFileSync(join(analyticsDir, f), 'utf8')))
      .map((l) => JSON.parse(l) as { id: string; type: string; amountMinor?: number; currency?: string; channel?: string; baseAmountMinor?: number });
    await waitFor('money events in analytics', () => events().some((e) => e.id === `clawback:stripe:${p7.paymentIntent}`) && events().filter((e) => e.type === 'purchase').length >= 57, 10_000);
    const money = events().filter((e) => ['purchase', 'refund', 'dispute'].includes(e.type));
    t.match(money.find((e) => e.id === `purchase:stripe:${p1.paymentIntent}`), { type: 'purchase', channel: 'stripe', amountMinor: 499, currency: 'USD', baseAmountMinor: 499 });
    t.match(money.find((e) => e.id === `clawback:stripe:${p6.paymentIntent}`), { type: 'refund', amountMinor: 99 });
    t.match(money.find((e) => e.id === `clawback:stripe:${p7.paymentIntent}`), { type: 'dispute', amountMinor: 999 });
    t.equal(new Set(money.map((e) => e.id)).size, money.length, 'no money event twice');
    hostSocket.close();
    fanSocket.close();
  });
}

if (stripeUrl) {
  suite('SQLite ledger', {});
  if (mongoUrl) suite('FerretDB ledger', { MONGODB_URL: mongoUrl.replace(/\/[^/]*$/, `/purchases_${process.pid}_${Date.now()}`) });
}
