/**
 * PayoutService against a real SQLite ledger and payout store, with a recording fake of the Connect
 * gateway: retries never create a second transfer, a failing provider leaves the withdrawal to be
 * resumed, risk signals send withdrawals to review, and the policy values coins exactly.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { SqlitePayoutStore } from '../adapters/payouts/payout-store-sqlite';
import type { ConnectGateway } from '../adapters/payments/connect-gateway';
import { PayoutService } from './payouts';
import { PayoutPolicy, type PayoutPolicyData } from './payout-policy';
import { Earnings } from './earnings';

const dir = mkdtempSync(join(tmpdir(), 'hb-payouts-unit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const POLICY: PayoutPolicyData = {
  version: 't', holdDays: 7, rates: { date: '2026-11-25', perCoinMinor: { USD: 0.5, EUR: 0.46, NPR: 67 } },
  limits: { minCoins: 10, maxCoins: 10_000, dailyCoins: 50_000, monthlyCoins: 100_000, approvalAboveCoins: 5_000 },
  risk: { reversedShareForReview: 0.5, lookbackDays: 90 },
};

/** A Connect gateway that records every call by idempotency key; `failPayouts` makes payouts throw. */
function fakeConnect() {
  const transfers = new Map<string, number>();
  const payouts = new Map<string, number>();
  const gateway: ConnectGateway & { failPayouts: boolean } = {
    failPayouts: false,
    createAccount: async (user) => ({ id: `acct_${user}`, detailsSubmitted: false, payoutsEnabled: false, requirementsDue: ['external_account'], disabledReason: '' }),
    onboardingLink: async (account) => ({ url: `https://connect.example/${account}`, expiresAt: 1 }),
    transfer: async (i) => {
      transfers.set(`transfer:${i.withdrawal}`, (transfers.get(`transfer:${i.withdrawal}`) ?? 0) + 1);
      return { id: `tr_${i.withdrawal}` };
    },
    payout: async (i) => {
      if (gateway.failPayouts) throw new Error('provider down');
      payouts.set(`payout:${i.withdrawal}`, (payouts.get(`payout:${i.withdrawal}`) ?? 0) + 1);
      return { id: `po_${i.withdrawal}` };
    },
    verifyWebhook: () => ({ ok: false, reason: 'signature' }),
  };
  return { gateway, transfers, payouts };
}

let n = 0;
async function setup(addresses: Record<string, string[]> = {}, reversed: string[] = []) {
  const i = n++;
  const ledger = new SqliteLedger(join(dir, `ledger-${i}.sqlite`));
  const store = new SqlitePayoutStore(join(dir, `payouts-${i}.sqlite`));
  const clock = { now: Date.now() };
  const connect = fakeConnect();
  const security: string[] = [];
  const payouts = new PayoutService({
    ledger, store, policy: new PayoutPolicy(POLICY), connect: connect.gateway, returnUrl: 'https://example.com',
    hadReversal: async (user) => reversed.includes(user), signInAddresses: async (user) => addresses[user] ?? [],
    security: (e) => void security.push(e.type), now: () => clock.now,
  });
  t.teardown(async () => {
    await ledger.close();
    await store.close();
  });
  // A creator with earnings from two fans, past the hold, and payouts enabled.
  for (const fan of ['fan1', 'fan2']) {
    await ledger.apply({ kind: 'mint', opId: `mint-${fan}-${i}`, user: fan, amount: 10_000, source: 'test' });
    await ledger.apply({ kind: 'gift', opId: `gift-${fan}-${i}`, sender: fan, creator: 'star', room: 'r', stream: 's1', giftId: 'coffee', count: 100, unitPrice: 10, platformShareBps: 3000 });
  }
  await payouts.openAccount('star', null);
  const account = (await store.account('star'))!;
  await store.saveAccount({ ...account, payoutsEnabled: true, detailsSubmitted: true, requirementsDue: [] });
  clock.now += 8 * DAY;
  return { ledger, store, payouts, connect, clock, security };
}

t.test('policy: coin values round down to the minor unit; bad policies are refused', async (t) => {
  const p = new PayoutPolicy(POLICY);
  t.same(p.value(1001, 'USD'), { amountMinor: 500, currency: 'USD', display: 'USD 5.00', rateDate: '2026-11-25' }, '1001 × 0.5 = 500.5 → 500 (never more than earned)');
  t.equal(p.value(1000, 'NPR').amountMinor, 67_000);
  t.throws(() => new PayoutPolicy({ ...POLICY, rates: { ...POLICY.rates, perCoinMinor: { USD: 0.5, EUR: 0.46, NPR: 0 } } }), /no rate for NPR/);
  t.throws(() => new PayoutPolicy({ ...POLICY, limits: { ...POLICY.limits, minCoins: 500, maxCoins: 100 } }), /minCoins/);
});

t.test('earnings group by stream, day and gift and respect the hold', async (t) => {
  const { ledger, clock } = await setup();
  const e = new Earnings(ledger, 7 * DAY);
  const lines = await e.lines('star', 0, Number.MAX_SAFE_INTEGER);
  t.same(Earnings.group(lines, 'gift'), [{ key: 'coffee', gifts: 2, units: 200, grossCoins: 2000, platformCoins: 600, creatorCoins: 1400 }]);
  t.equal(Earnings.group(lines, 'stream')[0]!.key, 's1');
  t.match(await e.balance('star', clock.now), { earnedCoins: 1400, pendingCoins: 0, availableCoins: 1400 });
  t.match(await e.balance('star', clock.now - 8 * DAY), { pendingCoins: 1400, availableCoins: 0 }, 'before the hold passed, nothing is available');
});

t.test('a withdrawal transfers once however often it is resumed; a failed payout call is resumed with the same keys', async (t) => {
  const { payouts, connect, store } = await setup();
  connect.gateway.failPayouts = true;
  const { withdrawal: w } = await payouts.withdraw('star', { coins: 1000, currency: 'USD', opId: 'op-resume-1' });
  t.equal(w.status, 'transferred', 'the transfer went through');
  t.equal(w.payout, '', 'the payout call failed: no payout yet');
  connect.gateway.failPayouts = false;
  await payouts.recover();
  await payouts.recover();
  t.same([...connect.transfers.values()], [1], 'the transfer was created once, not again on resume');
  t.same([...connect.payouts.values()], [1], 'the payout was created on resume, once');
  t.equal((await store.withdrawal(w.id))!.payout, `po_${w.id}`);
  const again = await payouts.withdraw('star', { coins: 1000, currency: 'USD', opId: 'op-resume-1' });
  t.same([again.replayed, again.withdrawal.id], [true, w.id], 'a retry with the same op id answers the same withdrawal');
  await t.rejects(payouts.withdraw('star', { coins: 999, currency: 'USD', opId: 'op-resume-1' }), { code: 'OP_ID_REUSED' }, 'the same op id with another amount is refused');
  t.same([...connect.transfers.values()], [1], 'and nothing more was transferred');
});

t.test('risk: earnings mostly from reversed buyers, or gifts from someone on the same public address, go to review; private addresses are no signal', async (t) => {
  const reversedBuyer = await setup({}, ['fan1', 'fan2']);
  t.match((await reversedBuyer.payouts.withdraw('star', { coins: 100, currency: 'USD', opId: 'op-risk-1' })).withdrawal, { status: 'review', reason: /100% of recent earnings/ });
  t.ok(reversedBuyer.security.includes('withdrawal_review'), 'logged to the security log');
  const sharedPublic = await setup({ star: ['203.0.113.7'], fan2: ['198.51.100.1', '203.0.113.7'] });
  t.match((await sharedPublic.payouts.withdraw('star', { coins: 100, currency: 'USD', opId: 'op-risk-2' })).withdrawal, { status: 'review', reason: /fan2.*203\.0\.113\.7/ });
  const sharedPrivate = await setup({ star: ['10.0.0.5', '127.0.0.1'], fan1: ['10.0.0.5'], fan2: ['127.0.0.1'] });
  t.match((await sharedPrivate.payouts.withdraw('star', { coins: 100, currency: 'USD', opId: 'op-risk-3' })).withdrawal, { status: 'transferred' }, 'NAT and loopback addresses identify nobody');
});
