/**
 * Export and erasure in the stores that exist only on SQLite (purchases, payouts, games); the others
 * (accounts and rooms among them) prove the same in their conformance suites on every engine. The walk over every file after
 * a real erasure is test/e2e/privacy-rights.test.ts.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePurchaseStore } from '../purchases/purchase-store-sqlite';
import { SqlitePayoutStore } from '../payouts/payout-store-sqlite';
import { SqlitePlayStore } from '../games/play-store-sqlite';
import { ERASED_NAME, scrub } from './personal-data';

const dir = mkdtempSync(join(tmpdir(), 'hb-personal-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const e = { user: 'u_gone', pseudonym: 'x_kept', aliases: ['gone@example.com', 'Gone Name'] };

t.test('scrub: the id inside any string or key, aliases only as whole values', async (t) => {
  t.same(scrub({ from: 'u_gone', who: 'user:u_gone', name: 'Gone Name', text: 'hi Gone Name', list: ['u_gone', 1], ['k:u_gone']: true }, e),
    { from: 'x_kept', who: 'user:x_kept', name: ERASED_NAME, text: 'hi Gone Name', list: ['x_kept', 1], ['k:x_kept']: true });
});

t.test('purchases and payouts: kept for the tax years, the buyer and creator pseudonymised', async (t) => {
  const purchases = new SqlitePurchaseStore(join(dir, 'purchases.sqlite'));
  const payouts = new SqlitePayoutStore(join(dir, 'payouts.sqlite'));
  t.teardown(async () => {
    await purchases.close();
    await payouts.close();
  });
  await purchases.create({ id: 'pur_1', user: 'u_gone', channel: 'stripe', packageId: 'p100', coins: 100, amountMinor: 99, currency: 'USD', baseAmountMinor: 99, providerRef: 'pi_1', status: 'credited', review: '', reason: '', createdAt: 1, updatedAt: 1 });
  await payouts.saveAccount({ user: 'u_gone', stripeAccount: 'acct_1', detailsSubmitted: true, payoutsEnabled: true, requirementsDue: [], disabledReason: '', updatedAt: 1 });
  await payouts.createWithdrawal({ id: 'wd_1', user: 'u_gone', requestId: 'req', coins: 1000, currency: 'USD', amountMinor: 500, rateDate: '2026-11-01', status: 'paid', reason: '', transfer: 'tr_1', payout: 'po_1', decidedBy: '', createdAt: 1, updatedAt: 1 });
  t.match((await purchases.exportUser('u_gone')).purchases, [{ id: 'pur_1', coins: 100 }]);
  t.match(await payouts.exportUser('u_gone'), { payout_account: [{ stripe_account: 'acct_1' }], withdrawals: [{ id: 'wd_1' }] });
  await purchases.eraseUser(e);
  await payouts.eraseUser(e);
  t.match(await purchases.byId('pur_1'), { user: 'x_kept', amountMinor: 99, coins: 100 }, 'the receipt stays, pseudonymised');
  t.match(await payouts.withdrawal('wd_1'), { user: 'x_kept', amountMinor: 500 });
  t.match(await payouts.account('x_kept'), { stripeAccount: 'acct_1' });
  t.equal(await payouts.account('u_gone'), null);
});

t.test('games: limits, results and duel pairs are exported and erased', async (t) => {
  const s = new SqlitePlayStore(join(dir, 'games.sqlite'));
  t.teardown(() => s.close());
  await s.reserveStake('u_gone', '2026-11-01', 50, null);
  await s.setSelfExclusion('u_gone', 99);
  await s.addResults([{ user: 'u_gone', game: 'wheel', won: true, chanceBps: 5000 }]);
  await s.addDuel('u_gone', 'u_pal', 'u_pal');
  await s.addFlag({ id: 'f1', kind: 'chip_dumping', user: 'u_gone', detail: 'with u_pal', at: 1 } as Parameters<SqlitePlayStore['addFlag']>[0]);
  const out = await s.exportUser('u_gone');
  t.match(out, { game_stakes_daily: [{ staked: 50 }], game_restrictions: [{ self_excluded_until: 99 }], game_results: [{ game: 'wheel', wins: 1 }], game_duel_pairs: [{ duels: 1 }] });
  t.notOk('play_flags' in out, 'anomaly flags are not exported');
  await s.eraseUser(e);
  t.same(await s.exportUser('u_gone'), { game_stakes_daily: [], game_restrictions: [], game_results: [], game_duel_pairs: [] });
  t.same(await s.flags({ limit: 10, user: 'u_gone' }), []);
});
