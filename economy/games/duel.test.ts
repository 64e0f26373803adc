/**
 * The duel as a state machine: commit-reveal (a reveal must match its commitment; nobody reveals before
 * both committed), best of three, ties replayed up to a drawn end, deadlines that forfeit or cancel, the
 * settle and refund operations; and the bot duel's exact return to player for its configured skill.
 */
import t from 'tap';
import { BOT, Duel, commitmentOf, type DuelRules } from './duel';
import { matchWinChance } from '../../actors/room-games';

const RULES: DuelRules = { minStake: 1, maxStake: 1000, rakeBps: 500, hostShareBps: 2000, acceptMs: 10_000, moveMs: 5_000, botRoundWinBps: 5000, winsNeeded: 2, maxRounds: 3 };

function started(opponent: string | null = 'bob'): Duel {
  const d = Duel.challenge({ id: 'd1', room: 'r', host: 'h', challenger: 'ann', opponent, stake: 100, clientSeed: 'seed', now: 0 }, RULES) as Duel;
  d.staked('ann', 0);
  if (opponent !== BOT) {
    t.equal(d.accept('bob', 1), null);
    d.staked('bob', 1);
  }
  return d;
}

function play(d: Duel, a: 'rock' | 'paper' | 'scissors', b: 'rock' | 'paper' | 'scissors', now: number) {
  t.notOk('refusal' in d.commit('ann', commitmentOf(a, 'salt-ann-1'), now));
  t.notOk('refusal' in d.commit('bob', commitmentOf(b, 'salt-bob-1'), now));
  t.notOk('refusal' in d.reveal('ann', a, 'salt-ann-1', now));
  return d.reveal('bob', b, 'salt-bob-1', now);
}

t.test('best of three between players: the winner gets both stakes less the rake', async (t) => {
  const d = started();
  t.same(d.commit('ann', commitmentOf('rock', 'salt-ann-1'), 2), { event: { phase: 'committed', data: { duel: 'd1', player: 'ann', round: 1 } } });
  t.match(d.reveal('ann', 'rock', 'salt-ann-1', 2), { refusal: 'DUEL_STATE' }, 'no reveal before both committed');
  t.match(d.commit('carl', commitmentOf('rock', 'x'.repeat(8)), 2), { refusal: 'NOT_A_PLAYER' });
  d.commit('bob', commitmentOf('scissors', 'salt-bob-1'), 2);
  t.match(d.reveal('ann', 'paper', 'salt-ann-1', 3), { refusal: 'BAD_REVEAL' }, 'a move other than the committed one is refused');
  d.reveal('ann', 'rock', 'salt-ann-1', 3);
  t.match(d.reveal('bob', 'scissors', 'salt-bob-1', 3), { event: { phase: 'round' } });
  t.match(d.reveal('bob', 'scissors', 'salt-bob-1', 3), { refusal: 'DUEL_STATE' }, 'a move after the reveal is refused');
  t.match(play(d, 'paper', 'rock', 4), { event: { phase: 'settled' } });
  t.equal(d.data.winner, 'ann');
  const { op } = d.settlement();
  t.match(op, { kind: 'settle', opId: 'settle:d1', round: 'd1', stakes: 200, payouts: 'ann=190', host: 'h', hostShareBps: 2000, game: 'duel' });
});

t.test('ties are replayed; after maxRounds the duel is drawn and both stakes return', async (t) => {
  const d = started();
  for (let i = 0; i < 3; i++) play(d, 'rock', 'rock', 10 + i);
  t.equal(d.data.phase, 'settled');
  t.equal(d.data.winner, null);
  t.match(d.settlement().op, { stakes: 200, payouts: 'ann=100;bob=100' });
});

t.test('deadlines: a late player forfeits, two late players cancel with refunds, an unaccepted challenge is withdrawn', async (t) => {
  const a = started();
  a.commit('ann', commitmentOf('rock', 'salt-ann-1'), 2);
  t.equal(a.expire(RULES.moveMs), null, 'nothing before the deadline');
  t.match(a.expire(1 + RULES.moveMs), { phase: 'settled' });
  t.equal(a.data.winner, 'ann');
  t.same(a.data.forfeitedBy, ['bob']);
  const b = started();
  t.match(b.expire(1 + RULES.moveMs), { phase: 'cancelled' });
  t.same(b.refundOps().map((o) => o.opId), ['refund:d1:ann', 'refund:d1:bob']);
  const c = Duel.challenge({ id: 'd2', room: 'r', host: 'h', challenger: 'ann', opponent: null, stake: 10, clientSeed: '', now: 0 }, RULES) as Duel;
  c.staked('ann', 0);
  t.match(c.expire(RULES.acceptMs), { phase: 'cancelled' });
  t.same(c.refundOps().map((o) => o.opId), ['refund:d2:ann'], 'only the stake taken is refunded');
});

t.test('an open challenge whose accepting stake fails opens again', async (t) => {
  const d = Duel.challenge({ id: 'd3', room: 'r', host: 'h', challenger: 'ann', opponent: null, stake: 10, clientSeed: '', now: 0 }, RULES) as Duel;
  d.staked('ann', 0);
  t.equal(d.accept('ann', 1), 'NOT_A_PLAYER', 'not against yourself');
  t.equal(d.accept('bob', 1), null);
  d.stakeRefused('bob');
  t.equal(d.data.phase, 'offered');
  t.equal(d.data.opponent, null);
  t.equal(Duel.challenge({ id: 'd4', room: 'r', host: 'h', challenger: 'ann', opponent: 'bob', stake: 0, clientSeed: '', now: 0 }, RULES), 'BAD_STAKE');
});

t.test('the bot duel: its exact return to player at the configured skill', async (t) => {
  // P(win best of three) with round chance p = p²(1 + 2(1 − p)); at p = 1/2 it is 1/2, paying 2 × 95%: RTP 95% exactly.
  t.equal(matchWinChance(5000, 2), 0.5);
  const rtpNumerator = BigInt(Math.round(matchWinChance(5000, 2) * 2 ** 20)) * 2n * BigInt(10_000 - RULES.rakeBps);
  t.equal(rtpNumerator, BigInt(2 ** 20) * 9500n, 'RTP = 95% of the stake');
  t.equal(matchWinChance(4000, 2), 0.4 ** 2 * (1 + 2 * 0.6), 'the closed form for another skill');
  const d = started(BOT);
  t.equal(d.data.phase, 'playing', 'a bot duel starts as soon as the stake is taken');
  t.match(d.data.serverSeedHash, /^[0-9a-f]{64}$/);
  t.equal(d.publicView().serverSeed, undefined, 'the seed stays secret until settlement');
});
