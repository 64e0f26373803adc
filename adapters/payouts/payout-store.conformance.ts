/**
 * The PayoutStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): payout accounts by
 * user and by Stripe account, one open withdrawal per creator (also when requests race), one withdrawal
 * per client request, lists and sums, provider events handled once, and erasure that keeps the tax
 * records with the creator pseudonymised.
 */
import type { Test } from 'tap';
import type { PayoutAccount, PayoutStore, Withdrawal } from './payout-store';

const account = (user: string, over: Partial<PayoutAccount> = {}): PayoutAccount => ({
  user, stripeAccount: `acct_${user}`, detailsSubmitted: false, payoutsEnabled: false, requirementsDue: ['external_account'], disabledReason: '', updatedAt: 1, ...over,
});
const withdrawal = (id: string, over: Partial<Withdrawal> = {}): Withdrawal => ({
  id, user: 'c1', requestId: '', coins: 1000, currency: 'USD', amountMinor: 500, rateDate: '2026-11-01', status: 'requested', reason: '',
  transfer: '', payout: '', decidedBy: '', createdAt: 100, updatedAt: 100, ...over,
});

export function payoutStoreConformance(t: Test, name: string, open: () => Promise<PayoutStore>): void {
  t.test(`${name}: payout accounts, found by user and by Stripe account, updated in place`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.equal(await s.account('c1'), null);
    await s.saveAccount(account('c1'));
    await s.saveAccount(account('c2'));
    t.same(await s.account('c1'), account('c1'));
    await s.saveAccount(account('c1', { detailsSubmitted: true, payoutsEnabled: true, requirementsDue: [], updatedAt: 2 }));
    t.same(await s.accountByStripe('acct_c1'), account('c1', { detailsSubmitted: true, payoutsEnabled: true, requirementsDue: [], updatedAt: 2 }));
    t.equal(await s.accountByStripe('acct_nobody'), null);
    t.same(await s.payoutUsers(), ['c1', 'c2']);
    await t.rejects(s.saveAccount(account('c3', { stripeAccount: 'acct_c1' })), 'a Stripe account belongs to one creator');
  });

  t.test(`${name}: one open withdrawal per creator, one withdrawal per client request`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.ok(await s.createWithdrawal(withdrawal('w1', { requestId: 'req-1' })));
    t.notOk(await s.createWithdrawal(withdrawal('w2')), 'a second open withdrawal is refused');
    t.equal(await s.withdrawal('w2'), null);
    t.ok(await s.createWithdrawal(withdrawal('w3', { user: 'c2', requestId: 'req-1' })), 'another creator may, with the same request id');
    await s.updateWithdrawal('w1', { status: 'approved', decidedBy: 'admin-1' }, 200);
    t.notOk(await s.createWithdrawal(withdrawal('w4')), 'approved is still open');
    await s.updateWithdrawal('w1', { status: 'transferred', transfer: 'tr_1' }, 300);
    await s.updateWithdrawal('w1', { status: 'paid', payout: 'po_1' }, 400);
    t.same(await s.withdrawal('w1'), withdrawal('w1', { requestId: 'req-1', status: 'paid', transfer: 'tr_1', payout: 'po_1', decidedBy: 'admin-1', updatedAt: 400 }));
    t.notOk(await s.createWithdrawal(withdrawal('w5', { requestId: 'req-1', createdAt: 500 })), 'the request id was used');
    t.ok(await s.createWithdrawal(withdrawal('w6', { requestId: 'req-2', createdAt: 600 })), 'paid: the creator may ask again');
    t.match(await s.withdrawalByRequest('c1', 'req-2'), { id: 'w6' });
    t.match(await s.withdrawalByRequest('c1', 'req-1'), { id: 'w1' });
    t.equal(await s.withdrawalByRequest('c1', 'req-9'), null);
    await s.updateWithdrawal('w6', { status: 'rejected', reason: 'checks' }, 700);
    for (let round = 0; round < 3; round++) {
      const user = `racer-${round}`;
      const racing = await Promise.all(Array.from({ length: 4 }, (_, i) => s.createWithdrawal(withdrawal(`wr_${round}_${i}`, { user }))));
      if (racing.filter(Boolean).length !== 1) t.fail(`round ${round}: ${racing}`);
    }
    t.pass('four requests racing, three times: one open withdrawal each time');
  });

  t.test(`${name}: lists, queues and the coins asked for since a time`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createWithdrawal(withdrawal('a', { createdAt: 10, coins: 100 }));
    await s.updateWithdrawal('a', { status: 'paid' }, 11);
    await s.createWithdrawal(withdrawal('b', { createdAt: 20, coins: 200 }));
    await s.updateWithdrawal('b', { status: 'refused' }, 21);
    await s.createWithdrawal(withdrawal('c', { createdAt: 30, coins: 300 }));
    await s.updateWithdrawal('c', { status: 'failed' }, 31);
    await s.createWithdrawal(withdrawal('d', { createdAt: 40, coins: 400 }));
    await s.createWithdrawal(withdrawal('e', { user: 'c2', createdAt: 5, status: 'pending_approval' }));
    t.same((await s.withdrawalsOf('c1', 10)).map((w) => w.id), ['d', 'c', 'b', 'a'], 'newest first');
    t.same((await s.withdrawalsOf('c1', 2)).map((w) => w.id), ['d', 'c']);
    t.same((await s.withdrawalsIn(['requested', 'pending_approval'], 10)).map((w) => w.id), ['e', 'd'], 'oldest first');
    t.same(await s.withdrawalsIn([], 10), []);
    t.equal(await s.coinsSince('c1', 0), 500, 'paid and open count; refused and failed do not');
    t.equal(await s.coinsSince('c1', 15), 400);
    t.equal(await s.coinsSince('nobody', 0), 0);
  });

  t.test(`${name}: a provider event is handled once`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.ok(await s.recordEvent('stripe-connect', 'evt_1', 'payout.paid', 'paid', 1));
    t.notOk(await s.recordEvent('stripe-connect', 'evt_1', 'payout.paid', 'paid', 2));
    t.ok(await s.hasEvent('stripe-connect', 'evt_1'));
    t.notOk(await s.hasEvent('stripe-connect', 'evt_2'));
  });

  t.test(`${name}: exported, and kept through erasure with the creator (and a deciding admin) pseudonymised`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.saveAccount(account('u_gone', { stripeAccount: 'acct_1' }));
    await s.createWithdrawal(withdrawal('wd_1', { user: 'u_gone', status: 'paid', transfer: 'tr_1' }));
    await s.createWithdrawal(withdrawal('wd_2', { user: 'u_pal', decidedBy: 'u_gone' }));
    t.match(await s.exportUser('u_gone'), { payout_account: [{ stripe_account: 'acct_1' }], withdrawals: [{ id: 'wd_1' }] });
    await s.eraseUser({ user: 'u_gone', pseudonym: 'x_kept', aliases: [] });
    t.match(await s.withdrawal('wd_1'), { user: 'x_kept', coins: 1000, transfer: 'tr_1' }, 'the record stays, pseudonymised');
    t.match(await s.withdrawal('wd_2'), { user: 'u_pal', decidedBy: 'x_kept' });
    t.match(await s.accountByStripe('acct_1'), { user: 'x_kept' });
    t.equal(await s.account('u_gone'), null);
  });
}
