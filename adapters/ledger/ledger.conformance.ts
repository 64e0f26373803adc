/**
 * The Ledger contract as a tap suite, run against every implementation. `open` returns a fresh, empty
 * ledger; `openWithCrash` (document stores only) returns one that dies after the named step.
 */
import type { Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { GAMES_HOUSE, ISSUANCE, PLATFORM_REVENUE, heldAccount, platformRevenueAccount, purchaseAccount, roundAccount, userAccount, type Ledger, type LedgerOp, type PurchaseChannel } from './ledger';

export interface ConformanceOptions {
  open(): Promise<Ledger>;
  /**
   * Opens the same store with a hook that throws after `step` for op `opId` (simulated crash); its
   * pending work is leased for `leaseMs`.
   */
  openWithCrash?: (step: string, opId: string, leaseMs: number) => Promise<Ledger>;
  /** Opens the same store with leases already expired, as a process restarted after a crash would. */
  openForRecovery?: () => Promise<Ledger>;
}

const id = (p: string) => `${p}-${randomUUID()}`;
const mint = (user: string, amount: number, opId = id('mint')): LedgerOp => ({ kind: 'mint', opId, user, amount, source: 'test' });
const gift = (sender: string, creator: string, count: number, opId = id('gift'), unitPrice = 10, stream = 's1', room = 'room-1'): LedgerOp => ({
  kind: 'gift', opId, sender, creator, room, stream, giftId: 'rose', count, unitPrice, platformShareBps: 3000,
});

const buy = (user: string, coins: number, purchase: string, channel: PurchaseChannel = 'stripe'): LedgerOp => ({ kind: 'purchase', opId: `purchase:${channel}:${purchase}`, user, coins, channel, purchase });
const clawback = (user: string, coins: number, purchase: string, channel: PurchaseChannel = 'stripe'): LedgerOp => ({ kind: 'clawback', opId: `clawback:${channel}:${purchase}`, user, coins, channel, purchase });

async function conserved(t: Test, ledger: Ledger, debts = 0): Promise<void> {
  const totals = await ledger.totals();
  t.equal(totals.held, totals.issued, `conservation: held ${totals.held} = issued ${totals.issued}`);
  t.equal(totals.negativeAccounts, 0, 'no account below zero (users in debt aside)');
  t.equal(totals.debts, debts, `debts owed: ${debts}`);
  t.equal(totals.pending, 0, 'nothing left pending');
}

export function ledgerConformance(t: Test, name: string, opts: ConformanceOptions): void {
  t.test(`${name}: erasure renames a user's account everywhere, amounts untouched, coins conserved`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [gone, fan] = [`u_${randomUUID().replace(/-/g, '').slice(0, 20)}`, id('fan')];
    const pseudonym = `x_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    await l.apply(mint(gone, 500));
    await l.apply(mint(fan, 500));
    await l.apply(gift(gone, fan, 2));
    await l.apply(gift(fan, gone, 3));
    const before = await l.balance(userAccount(gone));
    const counts = await l.eraseUser({ user: gone, pseudonym, aliases: [] });
    t.ok(Object.values(counts).reduce((a, b) => a + b, 0) > 0, 'something was rewritten');
    t.equal(await l.balance(userAccount(gone)), 0, 'the old account is gone');
    t.equal(await l.balance(userAccount(pseudonym)), before, 'the balance moved to the pseudonym');
    const hist = await l.history(userAccount(pseudonym), { limit: 10 });
    t.same(hist.map((e) => e.kind).sort(), ['gift', 'gift', 'mint'], 'its history went with it');
    t.notOk(JSON.stringify(hist).includes(gone), 'no entry names the user');
    t.notOk(JSON.stringify(await l.history(userAccount(fan), { limit: 10 })).includes(gone), 'nor the other side\'s entries');
    await conserved(t, l);
    t.same(await l.eraseUser({ user: gone, pseudonym, aliases: [] }), {}, 'a second run finds nothing');
  });

  t.test(`${name}: mint, gift with platform share, balances, history`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, b] = [id('alice'), id('bob')];
    const m = await l.apply(mint(a, 1000));
    t.ok(m.ok);
    t.equal(await l.balance(userAccount(a)), 1000);
    const g = await l.apply(gift(a, b, 3));
    t.ok(g.ok, 'gift applied');
    if (g.ok) {
      t.equal(g.balances[userAccount(a)], 970, 'sender balance after the gift');
      t.same(g.entry.postings.map((p) => [p.account, p.delta]), [[userAccount(a), -30], [userAccount(b), 21], [platformRevenueAccount('room-1'), 9]]);
    }
    t.equal(await l.balance(userAccount(b)), 21, 'creator gets 70%');
    t.equal(await l.balance(platformRevenueAccount('room-1')), 9, 'the platform 30%, in the room\'s revenue account');
    const elsewhere = await l.apply(gift(a, b, 1, id('gift'), 10, 's1', 'room-2'));
    t.same(elsewhere.ok && elsewhere.entry.postings.map((p) => p.account), [userAccount(a), userAccount(b), platformRevenueAccount('room-2')], 'another room: another revenue account');
    t.same([await l.balance(platformRevenueAccount('room-1')), await l.balance(platformRevenueAccount('room-2')), await l.balance(PLATFORM_REVENUE)], [9, 3, 0], 'each room\'s share apart; the old single account untouched');
    const hist = await l.history(userAccount(a), { limit: 10 });
    t.same(hist.map((e) => e.kind), ['gift', 'gift', 'mint'], 'newest first');
    const page1 = await l.history(userAccount(a), { limit: 1 });
    const page2 = await l.history(userAccount(a), { limit: 1, before: { ts: page1[0]!.ts, opId: page1[0]!.opId } });
    t.same([...page1, ...page2].map((e) => e.opId), hist.slice(0, 2).map((e) => e.opId), 'pages continue exactly, even within one millisecond');
    await conserved(t, l);
  });

  t.test(`${name}: a replayed op id moves nothing; a reused one with other content is refused`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, b] = [id('a'), id('b')];
    await l.apply(mint(a, 100));
    const op = gift(a, b, 2);
    const first = await l.apply(op);
    const again = await l.apply(op);
    t.ok(first.ok && !first.replayed);
    t.ok(again.ok && again.replayed, 'the retry is a replay');
    if (first.ok && again.ok) t.same(again.entry, first.entry, 'with the original entry');
    t.equal(await l.balance(userAccount(a)), 80, 'charged once');
    const reused = await l.apply({ ...op, count: 5 } as LedgerOp);
    t.same(reused.ok ? 'ok' : reused.code, 'OP_ID_REUSED');
    t.equal(await l.balance(userAccount(a)), 80);
    await conserved(t, l);
  });

  t.test(`${name}: insufficient funds, invalid amounts and refusals move nothing`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, b] = [id('a'), id('b')];
    await l.apply(mint(a, 25));
    const before = await l.totals();
    const poor = gift(a, b, 3);
    const r = await l.apply(poor);
    t.same(r.ok ? 'ok' : r.code, 'INSUFFICIENT_FUNDS');
    await l.apply(mint(a, 100));
    const retry = await l.apply(poor);
    t.same(retry.ok ? 'ok' : retry.code, 'INSUFFICIENT_FUNDS', 'a refused op id stays refused');
    const bad: LedgerOp[] = [
      gift(a, b, -1), gift(a, b, 1.5), gift(a, b, 0), gift(a, b, Number.NaN), gift(a, b, 100000), gift(a, a, 1),
      mint(a, -5), mint(a, 0.5), { ...mint(a, 5), opId: 'short' }, { kind: 'adjust', opId: id('adj'), user: a, delta: 0, reason: 'x' },
    ];
    for (const op of bad) {
      const res = await l.apply(op);
      t.same(res.ok ? 'ok' : res.code, 'INVALID_AMOUNT', `${JSON.stringify(op).slice(0, 80)} rejected`);
    }
    const after = await l.totals();
    t.equal(after.held, before.held + 100, 'only the top-up moved coins');
    t.equal(await l.balance(userAccount(a)), 125);
    await conserved(t, l);
  });

  t.test(`${name}: stakes, payouts bounded by the round's escrow, adjustments`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, round] = [id('a'), id('round')];
    await l.apply(mint(a, 100));
    t.ok((await l.apply({ kind: 'stake', opId: id('stake'), user: a, round, amount: 40 })).ok);
    t.equal(await l.balance(roundAccount(round)), 40);
    const over = await l.apply({ kind: 'payout', opId: id('pay'), user: a, round, amount: 41 });
    t.same(over.ok ? 'ok' : over.code, 'INSUFFICIENT_FUNDS', 'cannot pay out more than was staked');
    t.ok((await l.apply({ kind: 'payout', opId: id('pay'), user: a, round, amount: 40 })).ok);
    t.equal(await l.balance(userAccount(a)), 100);
    const down = await l.apply({ kind: 'adjust', opId: id('adj'), user: a, delta: -150, reason: 'chargeback' });
    t.same(down.ok ? 'ok' : down.code, 'INSUFFICIENT_FUNDS', 'an adjustment cannot overdraw');
    t.ok((await l.apply({ kind: 'adjust', opId: id('adj'), user: a, delta: -30, reason: 'chargeback' })).ok);
    t.equal(await l.balance(userAccount(a)), 70);
    await conserved(t, l);
  });

  t.test(`${name}: refunds reverse once`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, b] = [id('a'), id('b')];
    await l.apply(mint(a, 100));
    const g = gift(a, b, 5);
    await l.apply(g);
    const refund1 = await l.apply({ kind: 'refund', opId: id('refund'), refundOf: g.opId, reason: 'test' });
    t.ok(refund1.ok, 'refunded');
    t.equal(await l.balance(userAccount(a)), 100);
    t.equal(await l.balance(userAccount(b)), 0);
    const refund2 = await l.apply({ kind: 'refund', opId: id('refund'), refundOf: g.opId, reason: 'test' });
    t.same(refund2.ok ? 'ok' : refund2.code, 'NOT_REFUNDABLE', 'a second refund is refused');
    const unknown = await l.apply({ kind: 'refund', opId: id('refund'), refundOf: id('nothing'), reason: 'test' });
    t.same(unknown.ok ? 'ok' : unknown.code, 'NOT_REFUNDABLE');
    await conserved(t, l);
  });

  t.test(`${name}: parallel gifts with retries conserve coins and apply each op once`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const users = Array.from({ length: 8 }, () => id('u'));
    for (const u of users) await l.apply(mint(u, 200));
    const ops: LedgerOp[] = Array.from({ length: 160 }, (_, i) => gift(users[i % 8]!, users[(i * 3 + 1) % 8]!, 1 + (i % 4), id('g'), 10, 'par'))
      .filter((op) => op.kind === 'gift' && op.sender !== op.creator);
    // Every op is sent twice, concurrently: retries must not double-charge.
    const results = await Promise.all([...ops, ...ops].map((op) => l.apply(op)));
    const applied = new Set<string>();
    for (const r of results) if (r.ok) applied.add(r.entry.opId);
    const committed = await Promise.all(ops.map((op) => l.entry(op.opId)));
    t.equal(committed.filter(Boolean).length, applied.size, 'every op that reported success is in the ledger once');
    const stream = await l.giftsForStream('room-1', 'par');
    t.equal(stream.length, applied.size, 'giftsForStream lists each applied gift once');
    t.equal(new Set(stream.map((e) => e.opId)).size, stream.length);
    const spent = stream.reduce((n, e) => n + (e.meta.count as number) * 10, 0);
    const balances = await Promise.all(users.map((u) => l.balance(userAccount(u))));
    const platform = stream.reduce((n, e) => n + (e.postings.find((p) => p.account === platformRevenueAccount('room-1'))?.delta ?? 0), 0);
    t.equal(balances.reduce((a, b) => a + b, 0) + platform, 8 * 200, 'users + this stream\'s platform share = minted');
    t.ok(spent > 0);
    await conserved(t, l);
  });

  t.test(`${name}: operations sent together (one group commit) each succeed or fail on their own`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, b, c] = [id('u'), id('u'), id('u')];
    await l.apply(mint(a, 15));
    const sharedId = id('g');
    // All issued before any settles: a store that commits together must still judge each one alone.
    const results = await Promise.all([
      l.apply(gift(a, b, 1, sharedId)),
      l.apply(gift(a, c, 1)),
      l.apply(gift(a, c, 2, sharedId)),
      l.apply(mint(c, 7)),
      l.apply(gift(b, c, 0)),
    ]);
    t.ok(results[0]!.ok, 'the first gift is covered');
    t.match(results[1], { ok: false, code: 'INSUFFICIENT_FUNDS' }, 'the second is not: 5 coins left');
    t.match(results[2], { ok: false, code: 'OP_ID_REUSED' }, 'an op id reused in the same batch is refused');
    t.ok(results[3]!.ok, 'an unrelated mint in the batch commits');
    t.match(results[4], { ok: false, code: 'INVALID_AMOUNT' });
    t.same(await Promise.all([a, b, c].map((u) => l.balance(userAccount(u)))), [5, 7, 7], 'balances: only the covered gift and the mint moved coins');
    t.match(await l.apply(gift(a, c, 1)), { ok: false, code: 'INSUFFICIENT_FUNDS' }, 'the refusal stands on its own later too');
    await conserved(t, l);
  });

  if (opts.openWithCrash && opts.openForRecovery) {
    const steps = ['entry', 'posting:0', 'posting:1', 'posting:2', 'applied'];
    for (const step of steps) {
      t.test(`${name}: a crash after "${step}" is completed by recovery, once`, async (t) => {
        const setup = await opts.open();
        const [a, b] = [id('a'), id('b')];
        await setup.apply(mint(a, 100));
        await setup.close();
        const op = gift(a, b, 4);
        const dying = await opts.openWithCrash!(step, op.opId, 20);
        await t.rejects(dying.apply(op), /simulated crash/);
        await dying.close();
        await new Promise((r) => setTimeout(r, 40));
        const restarted = await opts.openForRecovery!();
        t.teardown(() => restarted.close());
        const r = await restarted.recover();
        t.ok(r.completed + r.reversed <= 1, `recovered ${JSON.stringify(r)}`);
        t.equal(await restarted.balance(userAccount(a)), 60, 'the sender paid exactly once');
        t.equal(await restarted.balance(userAccount(b)), 28, 'the creator was credited exactly once');
        const retried = await restarted.apply(op);
        t.ok(retried.ok && retried.replayed, 'the client retry returns the original result');
        t.equal(await restarted.balance(userAccount(a)), 60, 'and moves nothing');
        await conserved(t, restarted);
      });
    }

    t.test(`${name}: an interrupted refund that can no longer be covered is reversed by recovery`, async (t) => {
      const setup = await opts.open();
      const [a, b] = [id('a'), id('b')];
      await setup.apply(mint(a, 100));
      const g = gift(a, b, 1);
      await setup.apply(g);
      await setup.close();
      const refund: LedgerOp = { kind: 'refund', opId: id('refund'), refundOf: g.opId, reason: 'dispute' };
      const dying = await opts.openWithCrash!('entry', refund.opId, 20);
      await t.rejects(dying.apply(refund), /simulated crash/);
      await dying.close();
      await new Promise((r) => setTimeout(r, 40));
      const restarted = await opts.openForRecovery!();
      t.teardown(() => restarted.close());
      // Meanwhile the creator spent what the refund would take back.
      t.ok((await restarted.apply(gift(b, a, 1, id('spend'), 7))).ok);
      const r = await restarted.recover();
      t.same(r, { completed: 0, reversed: 1 }, 'recovery reverses it');
      const retried = await restarted.apply(refund);
      t.same(retried.ok ? 'ok' : retried.code, 'INSUFFICIENT_FUNDS', 'and its op id keeps that answer');
      t.equal(await restarted.balance(userAccount(b)), 0);
      await conserved(t, restarted);
    });

    t.test(`${name}: a retry while the first attempt still holds its lease is told to wait; after it, the op applies once`, async (t) => {
      const setup = await opts.open();
      const [a, b] = [id('a'), id('b')];
      await setup.apply(mint(a, 100));
      await setup.close();
      const op = gift(a, b, 1);
      // The first attempt got as far as its first posting; its lease runs for another 400 ms.
      const dying = await opts.openWithCrash!('posting:0', op.opId, 400);
      await t.rejects(dying.apply(op));
      const other = await opts.openForRecovery!();
      t.teardown(() => other.close());
      const early = await other.apply(op);
      t.same(early.ok ? 'ok' : early.code, 'OP_IN_PROGRESS', 'another process is told to wait while the lease holds');
      const totals = await other.totals();
      t.equal(totals.held, totals.issued, 'conserved while pending');
      await new Promise((r) => setTimeout(r, 500));
      const retried = await other.apply(op);
      t.ok(retried.ok, 'after the lease, the retry completes it');
      const after = await other.recover();
      t.same(after, { completed: 0, reversed: 0 }, 'and recovery finds nothing left to do');
      const again = await other.apply(op);
      t.ok(again.ok && again.replayed, 'a later retry returns the result');
      t.equal(await other.balance(userAccount(a)), 90, 'the sender paid exactly once');
      t.equal(await other.balance(userAccount(b)), 7, 'the creator was credited exactly once');
      await dying.close();
      await conserved(t, other);
    });
  }

  t.test(`${name}: the issuance account is the only one below zero`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    await l.apply(mint(id('x'), 5));
    t.ok((await l.balance(ISSUANCE)) < 0);
    await conserved(t, l);
  });

  t.test(`${name}: purchases credit from their channel; a clawback after the coins were spent leaves a debt that blocks spending until a purchase repays it`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [fan, star] = [id('fan'), id('star')];
    const p1 = id('pi');
    t.ok((await l.apply(buy(fan, 100, p1))).ok);
    t.equal(await l.balance(purchaseAccount('stripe')), -100, 'the channel account stands for the money that came in');
    t.equal(await l.balance(userAccount(fan)), 100);
    t.ok((await l.apply(gift(fan, star, 8))).ok, 'spends 80 of them');
    const c = await l.apply(clawback(fan, 100, p1));
    t.ok(c.ok, 'the clawback applies although only 20 are left');
    t.equal(await l.balance(userAccount(fan)), -80, 'the fan owes 80');
    await conserved(t, l, 80);
    const again = await l.apply(clawback(fan, 100, p1));
    t.ok(again.ok && again.replayed, 'a second refund or dispute of the same purchase claws back nothing more');
    const spend = await l.apply(gift(fan, star, 1));
    t.match(spend, { ok: false, code: 'ACCOUNT_IN_DEBT' }, 'spending is blocked while in debt');
    t.ok((await l.apply(buy(fan, 50, id('pi')))).ok);
    t.equal(await l.balance(userAccount(fan)), -30, 'a new purchase repays part of the debt');
    t.match(await l.apply(gift(fan, star, 1)), { ok: false, code: 'ACCOUNT_IN_DEBT' }, 'still blocked');
    t.ok((await l.apply(buy(fan, 50, id('pi'), 'appstore'))).ok);
    t.equal(await l.balance(userAccount(fan)), 20, 'repaid, with 20 to spend');
    t.ok((await l.apply(gift(fan, star, 2))).ok, 'spending works again');
    await conserved(t, l, 0);
    const totals = await l.totals();
    t.equal(totals.issued, 100 - 100 + 50 + 50, 'issued = bought − clawed back');
  });

  t.test(`${name}: a hold sets a purchase's coins aside (even if spent) and a release gives them back`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [fan, star] = [id('fan'), id('star')];
    const p = id('pi');
    await l.apply(buy(fan, 60, p));
    await l.apply(gift(fan, star, 1));
    const hold: LedgerOp = { kind: 'hold', opId: `hold:stripe:${p}`, user: fan, coins: 60, purchase: p };
    t.ok((await l.apply(hold)).ok);
    t.equal(await l.balance(heldAccount(p)), 60);
    t.equal(await l.balance(userAccount(fan)), -10, 'spent coins under review leave a debt');
    t.match(await l.apply(gift(fan, star, 1)), { ok: false, code: 'ACCOUNT_IN_DEBT' });
    await conserved(t, l, 10);
    t.ok((await l.apply({ kind: 'release', opId: `release:stripe:${p}`, user: fan, coins: 60, purchase: p })).ok);
    t.equal(await l.balance(userAccount(fan)), 50);
    t.equal(await l.balance(heldAccount(p)), 0);
    t.match(await l.apply({ kind: 'release', opId: `release2:stripe:${p}`, user: fan, coins: 60, purchase: p }), { ok: false, code: 'INSUFFICIENT_FUNDS' }, 'nothing more to release');
    await conserved(t, l, 0);
  });

  t.test(`${name}: 50 parallel deliveries of one purchase and 50 parallel purchases with clawbacks conserve coins`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const fan = id('fan');
    const p = id('pi');
    const same = await Promise.all(Array.from({ length: 50 }, () => l.apply(buy(fan, 25, p))));
    t.equal(same.filter((r) => r.ok && !r.replayed).length, 1, 'credited once');
    t.ok(same.every((r) => r.ok || r.code === 'OP_IN_PROGRESS'), 'the others replay (or are told to wait)');
    const ids = Array.from({ length: 50 }, () => id('pi'));
    await Promise.all(ids.flatMap((pi, i) => [l.apply(buy(fan, 10, pi)), ...(i % 5 === 0 ? [l.apply(clawback(fan, 10, pi))] : [])]));
    // Whatever order the clawbacks landed in, every op applied once.
    t.equal(await l.balance(userAccount(fan)), 25 + 50 * 10 - 10 * 10);
    await conserved(t, l, 0);
  });

  t.test(`${name}: a game round settles once: winners paid from the escrow, the house covers a shortfall or keeps the margin, the host gets a share`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const [a, b, c, host] = [id('a'), id('b'), id('c'), id('host')].sort();
    for (const u of [a, b, c]) await l.apply(mint(u!, 100));
    const round = id('round');
    const stake = (u: string, amount: number): LedgerOp => ({ kind: 'stake', opId: id('stake'), user: u, round, amount });
    for (const [u, amount] of [[a, 40], [b, 30], [c, 30]] as const) t.ok((await l.apply(stake(u!, amount))).ok);
    const losing: LedgerOp = { kind: 'settle', opId: `settle:${round}`, round, stakes: 100, payouts: `${a}=80;${b}=150`, host: host!, hostShareBps: 1000 };
    const r1 = await l.apply(losing);
    t.ok(r1.ok, 'winners take more than was staked: the house covers it');
    t.same([await l.balance(userAccount(a!)), await l.balance(userAccount(b!)), await l.balance(userAccount(c!)), await l.balance(userAccount(host!))], [140, 220, 70, 0], 'no host share without a margin');
    t.equal(await l.balance(roundAccount(round)), 0, 'the escrow is spent exactly');
    t.ok((await l.apply(losing)).ok && (await l.apply(losing) as { replayed?: boolean }).replayed, 'settling again moves nothing');
    await conserved(t, l, 0);
    const round2 = id('round');
    await l.apply({ kind: 'stake', opId: id('stake'), user: a!, round: round2, amount: 100 });
    const winning: LedgerOp = { kind: 'settle', opId: `settle:${round2}`, round: round2, stakes: 100, payouts: `${c}=50`, host: host!, hostShareBps: 1000 };
    t.ok((await l.apply(winning)).ok);
    t.equal(await l.balance(userAccount(host!)), 5, 'the host gets 10% of the 50-coin margin');
    t.equal(await l.balance(GAMES_HOUSE), -130 + 45, 'the house paid 130 (it stands for money from outside), then kept 45');
    t.match(await l.apply({ kind: 'settle', opId: id('settle'), round: round2, stakes: 1, payouts: '', host: '', hostShareBps: 0 }), { ok: false, code: 'INSUFFICIENT_FUNDS' }, 'cannot settle more than the escrow holds');
    t.match(await l.apply({ kind: 'settle', opId: id('settle'), round: round2, stakes: 0, payouts: `${b}=5;${a}=5`, host: '', hostShareBps: 0 }), { ok: false, code: 'INVALID_AMOUNT' }, 'payouts must be sorted, each user once');
    await conserved(t, l, 0);
  });

  t.test(`${name}: a withdrawal sets coins aside, then either leaves (paid) or comes back (returned), never both`, async (t) => {
    const l = await opts.open();
    t.teardown(() => l.close());
    const star = id('star');
    await l.apply(mint(star, 500));
    const w = id('wd');
    const op = (kind: 'withdraw' | 'withdraw_paid' | 'withdraw_return'): LedgerOp => ({ kind, opId: `${kind}:${w}`, user: star, coins: 300, withdrawal: w });
    t.ok((await l.apply(op('withdraw'))).ok);
    t.equal(await l.balance(userAccount(star)), 200, 'set aside at once');
    t.match(await l.apply({ kind: 'withdraw', opId: `withdraw:${id('wd')}`, user: star, coins: 300, withdrawal: id('wd') }), { ok: false, code: 'INSUFFICIENT_FUNDS' }, 'cannot withdraw the same coins twice');
    t.ok((await l.apply(op('withdraw_paid'))).ok);
    t.match(await l.apply(op('withdraw_return')), { ok: false, code: 'INSUFFICIENT_FUNDS' }, 'a paid withdrawal cannot also come back');
    t.equal((await l.totals()).issued, 200, 'paid coins left the system');
    await conserved(t, l, 0);
  });
}
