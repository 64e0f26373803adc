/**
 * The wheel round against a real SQLite ledger: 50 players bet, the round settles once (also when a
 * rebuilt room settles it again), every proof verifies with an independent HMAC, a cancelled round
 * refunds every stake once, and coins are conserved throughout.
 */
import t, { type Test } from 'tap';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedger } from '../../adapters/ledger/ledger-sqlite';
import { roundAccount, userAccount, type Ledger } from '../../adapters/ledger/ledger';
import { WHEEL } from './payout-table';
import { WheelRound, type WheelRules } from './wheel-round';

const dir = mkdtempSync(join(tmpdir(), 'hb-wheel-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const RULES: WheelRules = { table: WHEEL, minStake: 1, maxStake: 1000, hostShareBps: 1000 };
const T0 = 1_795_000_000_000;

async function conserved(t: Test, ledger: Ledger): Promise<void> {
  const x = await ledger.totals();
  t.equal(x.held, x.issued, `held ${x.held} = issued ${x.issued}`);
  t.equal(x.negativeAccounts, 0);
}

/** The draw recomputed from the revealed proof alone, as docs/games.md tells a player to. */
function verify(proof: { serverSeed: string; serverSeedHash: string; clientSeed: string; nonce: number; landed: string }): boolean {
  if (createHash('sha256').update(Buffer.from(proof.serverSeed, 'hex')).digest('hex') !== proof.serverSeedHash) return false;
  const d = createHmac('sha256', Buffer.from(proof.serverSeed, 'hex')).update(`${proof.clientSeed}:${proof.nonce}`).digest();
  const limit = 2 ** 32 - (2 ** 32 % 400);
  let draw = -1;
  for (let i = 0; i < 32 && draw < 0; i += 4) if (d.readUInt32BE(i) < limit) draw = d.readUInt32BE(i) % 400;
  for (const s of WHEEL.segments) {
    if (draw < s.weight) return s.id === proof.landed;
    draw -= s.weight;
  }
  return false;
}

t.test('50 players, 20 rounds: every bet staked and settled once, every proof verifies, coins conserved', async (t) => {
  const ledger = new SqliteLedger(join(dir, 'rounds.sqlite'));
  t.teardown(() => ledger.close());
  const players = Array.from({ length: 50 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  for (const p of players) await ledger.apply({ kind: 'mint', opId: `mint-${p}-0000`, user: p, amount: 10_000, source: 'test' });
  const segments = ['x2', 'x5', 'x10', 'x20'];
  let settled = 0;
  for (let r = 0; r < 20; r++) {
    const round = WheelRound.open(`wheel.room1.${r}`, 'room1', 'host', T0 + r * 30_000, 20_000, RULES);
    const hash = round.publicView().serverSeedHash;
    t.equal(round.publicView().serverSeed, null, 'the seed stays secret while the round is open');
    for (const [i, p] of players.entries()) {
      const bet = { user: p, segment: segments[(i + r) % 4]!, coins: 10 + i, betId: `bet-${r}-${i}`, clientSeed: `${p}-seed-${r}` };
      const taken = round.bet(bet, T0 + r * 30_000 + 1000);
      t.ok(taken.ok, 'bet taken');
      if (taken.ok) {
        const staked = await ledger.apply(taken.op);
        if (!staked.ok) round.dropBet(p, bet.betId);
        // A client retry of the same bet: the same op, replayed by the ledger.
        const retry = round.bet(bet, T0 + r * 30_000 + 1500);
        t.ok(retry.ok && retry.replayed && (await ledger.apply(retry.op)).ok, 'a retried bet moves nothing more');
      }
    }
    t.match(round.bet({ user: 'late', segment: 'x2', coins: 5, betId: 'late-bet-1', clientSeed: '' }, T0 + r * 30_000 + 20_000), { ok: false, code: 'ROUND_CLOSED' }, 'the stored deadline closes betting');
    const s = round.settle();
    t.ok((await ledger.apply(s.op)).ok);
    // A rebuilt room (state restored from its snapshot) settles the same round again: same op, replayed.
    const rebuilt = WheelRound.restore({ ...round.data, phase: 'locked', landed: null }, RULES);
    const again = rebuilt.settle();
    t.same(again.op, s.op, 'the rebuilt round computes the same settlement');
    const replay = await ledger.apply(again.op);
    t.ok(replay.ok && replay.replayed, 'and the ledger moves nothing twice');
    t.equal(s.proof.serverSeedHash, hash, 'the revealed seed is the one committed before the round');
    t.ok(verify(s.proof), `round ${r}: the proof verifies independently (landed ${s.landed.id})`);
    t.equal(await ledger.balance(roundAccount(round.data.id)), 0, 'the escrow is spent');
    settled++;
  }
  t.equal(settled, 20);
  await conserved(t, ledger);
});

t.test('refusals and a cancelled round: stakes refunded once', async (t) => {
  const ledger = new SqliteLedger(join(dir, 'cancel.sqlite'));
  t.teardown(() => ledger.close());
  await ledger.apply({ kind: 'mint', opId: 'mint-alice-0000', user: 'alice', amount: 100, source: 'test' });
  const round = WheelRound.open('wheel.room2.1', 'room2', 'host', T0, 20_000, RULES);
  t.match(round.bet({ user: 'alice', segment: 'house', coins: 10, betId: 'b-00001', clientSeed: '' }, T0), { ok: false, code: 'UNKNOWN_SEGMENT' }, 'the house segment takes no bets');
  t.match(round.bet({ user: 'alice', segment: 'x2', coins: 0, betId: 'b-00002', clientSeed: '' }, T0), { ok: false, code: 'BAD_STAKE' });
  const ok = round.bet({ user: 'alice', segment: 'x5', coins: 40, betId: 'b-00003', clientSeed: 'a' }, T0);
  t.ok(ok.ok && (await ledger.apply(ok.op)).ok);
  t.match(round.bet({ user: 'alice', segment: 'x5', coins: 41, betId: 'b-00003', clientSeed: 'a' }, T0), { ok: false, code: 'BET_ID_REUSED' });
  t.equal(await ledger.balance(userAccount('alice')), 60);
  const refunds = round.cancel();
  for (const op of [...refunds, ...refunds]) t.ok((await ledger.apply(op)).ok);
  t.equal(await ledger.balance(userAccount('alice')), 100, 'refunded once, though applied twice');
  t.throws(() => round.settle(), /cancelled/);
  await conserved(t, ledger);
});
