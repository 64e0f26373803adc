/**
 * Purchases: how fast verified Stripe webhooks turn into spendable coins. Users start purchases (stripe-mock
 * creates the intents), then signed `payment_intent.succeeded` deliveries are posted at a fixed concurrency;
 * each delivery's time from the request to its 2xx is the time from webhook receipt to a spendable balance
 * (the answer comes only after the ledger committed the credit). Every fifth delivery is repeated, as
 * Stripe's retries are, and must change nothing. Reports events/s and latency percentiles; checks every
 * balance and conservation at the end. Needs STRIPE_MOCK_URL (deploy/local/services up stripe).
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { startServer } from '../tools/server-process';
import { LatencyRecorder } from './latency';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface PurchasesParams { users: number; purchasesPerUser: number; concurrency: number }
export const purchasesDefaults: PurchasesParams = { users: 50, purchasesPerUser: 40, concurrency: 16 };
export const purchasesQuick: PurchasesParams = { users: 5, purchasesPerUser: 4, concurrency: 4 };

export async function runPurchases(p: PurchasesParams, stripeUrl: string | undefined, mongodbUrl?: string): Promise<unknown> {
  if (!stripeUrl) throw new Error('STRIPE_MOCK_URL is not set: deploy/local/services up stripe && eval "$(deploy/local/services env)"');
  const secret = `whsec_${randomUUID().replace(/-/g, '')}`;
  const server = await startServer({
    STRIPE_SECRET_KEY: 'sk_test_bench', STRIPE_WEBHOOK_SECRET: secret, HALOBUZZ_STRIPE_API_URL: stripeUrl, HALOBUZZ_API_RATE_LIMIT: '10000000',
    HALOBUZZ_DEBUG_ENDPOINTS: '1', ...(mongodbUrl ? { MONGODB_URL: mongodbUrl } : {}),
  });
  try {
    const post = async (path: string, body: string, headers: Record<string, string>) => {
      const res = await fetch(`${server.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const signer = new Stripe('sk_test_signer');
    const setup = new Progress('purchases: intents', p.users * p.purchasesPerUser);
    const users: { token: string; intents: string[] }[] = [];
    for (let u = 0; u < p.users; u++) {
      const r = await post('/v1/auth/register', JSON.stringify({ email: `bench-${u}-${randomUUID()}@example.com`, password: 'correct horse battery staple', displayName: `bench ${u}` }), {});
      const token = (r.body.tokens as { accessToken: string }).accessToken;
      const intents: string[] = [];
      for (let i = 0; i < p.purchasesPerUser; i++) {
        const started = await post('/v1/purchases', JSON.stringify({ package: 'coins_100', currency: 'USD' }), { authorization: `Bearer ${token}` });
        intents.push(started.body.paymentIntent as string);
        setup.update(users.length * p.purchasesPerUser + i + 1);
      }
      users.push({ token, intents });
    }
    setup.done();
    const deliveries = users.flatMap((u) => u.intents).flatMap((pi, i) => {
      const event = JSON.stringify({ id: `evt_${randomUUID()}`, object: 'event', type: 'payment_intent.succeeded', created: Math.floor(Date.now() / 1000),
        data: { object: { id: pi, object: 'payment_intent', amount: 99, amount_received: 99, currency: 'usd', status: 'succeeded' } } });
      return i % 5 === 0 ? [event, event] : [event];
    });
    const latency = new LatencyRecorder();
    const progress = new Progress('purchases: webhooks', deliveries.length);
    let next = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: p.concurrency }, async () => {
      while (next < deliveries.length) {
        const payload = deliveries[next++]!;
        const header = signer.webhooks.generateTestHeaderString({ payload, secret });
        const start = performance.now();
        const r = await post('/v1/webhooks/stripe', payload, { 'stripe-signature': header });
        latency.record(performance.now() - start);
        if (r.status !== 200) failed++;
        if (next % 50 === 0) progress.update(next);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    progress.done();
    const balances = await Promise.all(users.map(async (u) => ((await (await fetch(`${server.api}/v1/wallet`, { headers: { authorization: `Bearer ${u.token}` } })).json()) as { balance: number }).balance));
    const totals = (await (await fetch(`${server.http}/debug/ledger/totals`)).json()) as { held: number; issued: number };
    const s = latency.summary();
    const result = {
      scenario: 'purchases', params: p, ledger: mongodbUrl ? 'mongodb' : 'sqlite', deliveries: deliveries.length, failed,
      eventsPerSecond: Math.round(deliveries.length / seconds), receiptToSpendableMs: s,
      everyBalanceExact: balances.every((b) => b === p.purchasesPerUser * 100), conserved: totals.held === totals.issued,
    };
    console.log(JSON.stringify(result, null, 2));
    const svg = lineChart({ title: 'purchases: webhook receipt → spendable balance', xLabel: 'latency (ms, log)', yLabel: '% of deliveries', logX: true, series: [{ name: result.ledger, points: latency.cdf(200) }] });
    console.log(`results: ${writeResult('purchases', result, svg).join(', ')}`);
    if (failed > 0 || !result.everyBalanceExact || !result.conserved) throw new Error('purchases bench: a delivery failed or the coins do not add up');
    return result;
  } finally {
    await server.stop();
  }
}
