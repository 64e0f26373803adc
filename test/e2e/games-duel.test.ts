/**
 * Duels through the SDK on a running server: a full best-of-three between two players (commit, reveal,
 * payout less the rake), moves out of turn or for another player refused, a timeout that forfeits, an
 * explicit forfeit, a duel against the bot whose proof verifies; then responsible-play refusals (daily cap,
 * self-exclusion, blocked country, too-young account) that take no stake, and anomaly flags (a rigged client
 * seed cannot move an outcome; chip dumping between a pair raises a flag staff can see, and a freeze stops play).
 */
import t, { type Test } from 'tap';
import { createHash, randomUUID } from 'node:crypto';
import { signAccessToken } from '../../core/auth/jwt';
import { startServer, TEST_SECRET, type ServerHandle } from '../../tools/server-process';
import { ErrorCode, Role } from '../../protocol/codes';
import { HaloClient, HaloError, type DuelMove, type GameEvent } from '../../sdk/client';
import { apiUser, gamesEnv, until } from '../helpers/games';
import { botWinsRound } from '../../economy/games/duel';

async function mint(server: ServerHandle, user: string, coins: number): Promise<void> {
  const res = await fetch(`${server.http}/debug/mint?user=${user}&coins=${coins}&op=mint-${user}-${randomUUID()}`, { method: 'POST' });
  if (!res.ok) throw new Error(`mint: ${res.status}`);
}

async function conserved(t: Test, server: ServerHandle): Promise<void> {
  const x = await (await fetch(`${server.http}/debug/ledger/totals`)).json() as { held: number; issued: number; negativeAccounts: number };
  t.equal(x.held, x.issued, 'coins conserved');
  t.equal(x.negativeAccounts, 0);
}

async function refusal(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return -1;
  } catch (err) {
    return err instanceof HaloError ? err.code : -2;
  }
}

async function room(server: ServerHandle, name: string, players: string[], coins = 1000): Promise<{ host: HaloClient; clients: HaloClient[]; events: GameEvent[] }> {
  const host = server.client(`${name}-host`);
  await host.connect();
  await host.join(name, Role.HOST);
  const clients: HaloClient[] = [];
  for (const p of players) {
    await mint(server, p, coins);
    const c = server.client(p);
    await c.connect();
    await c.join(name);
    clients.push(c);
  }
  const events: GameEvent[] = [];
  host.on('game', (e) => events.push(e));
  return { host, clients, events };
}

const wins = (a: DuelMove): DuelMove => (a === 'rock' ? 'paper' : a === 'paper' ? 'scissors' : 'rock');

t.test('duels between players and against the bot', { timeout: 120_000 }, async (t) => {
  const server = await startServer({ ...gamesEnv({ moveMs: 2000, acceptMs: 3000 }), HALOBUZZ_DEBUG_ENDPOINTS: '1' });
  t.teardown(() => server.stop());
  const { host, clients: [ann, ben, cat], events } = await room(server, 'duel-room', ['ann', 'ben', 'cat']);

  t.test('a full best of three: moves hidden until both commit, the winner paid twice the stake less the rake', async (t) => {
    const offered = await ann!.challenge('duel-room', 'duel-one-1', 100, 'ben');
    const id = offered.duel.id as string;
    t.equal(offered.duel.phase, 'offered');
    t.equal(await refusal(cat!.acceptDuel('duel-room', id)), ErrorCode.NOT_A_PLAYER, 'only the invited player accepts');
    await ben!.acceptDuel('duel-room', id);
    // ann wins two rounds: ben plays rock, ann paper.
    for (let round = 1; round <= 2; round++) {
      await ann!.commitMove('duel-room', id, 'paper');
      t.equal(await refusal(ann!.commitMove('duel-room', id, 'rock')), ErrorCode.DUEL_STATE, 'committing twice is refused');
      t.equal(await refusal(ann!.revealMove('duel-room', id)), ErrorCode.DUEL_STATE, 'no reveal before both committed');
      t.equal(await refusal(cat!.commitMove('duel-room', id, 'rock')), ErrorCode.NOT_A_PLAYER, 'a move for a duel you are not in');
      const committed = events.filter((e) => e.id === id && e.phase === 'committed').at(-1)!;
      t.notOk(JSON.stringify(committed.data).includes('paper'), 'the other player sees that ann committed, not what');
      await ben!.commitMove('duel-room', id, 'rock');
      await ann!.revealMove('duel-room', id);
      await ben!.revealMove('duel-room', id);
    }
    const settled = await until('settled', () => events.find((e) => e.id === id && e.phase === 'settled'));
    t.equal(settled.data.winner, 'ann');
    t.ok(([ErrorCode.DUEL_STATE, ErrorCode.UNKNOWN_DUEL] as number[]).includes(await refusal(ben!.forfeitDuel('duel-room', id))), 'no move after the duel ended');
    await until('paid', async () => (await ann!.wallet()).balance === 1090);
    t.equal((await ann!.wallet()).balance, 900 + 190, 'ann: 2 × 100 less 5% rake');
    t.equal((await ben!.wallet()).balance, 900);
    const proof = await (await fetch(`${server.api}/v1/games/rounds/${id}/proof`)).json() as { rounds: { commits: Record<string, string>; moves: Record<string, string>; salts: Record<string, string> }[] };
    for (const r of proof.rounds) {
      for (const p of ['ann', 'ben']) t.equal(createHash('sha256').update(`${r.moves[p]}:${r.salts[p]}`).digest('hex'), r.commits[p], `${p}'s reveal matches the commitment`);
    }
    await conserved(t, server);
  });

  t.test('a player who lets the move deadline pass forfeits; an explicit forfeit ends it too', async (t) => {
    const d1 = (await ann!.challenge('duel-room', 'duel-late-1', 50, '')).duel.id as string;
    await cat!.acceptDuel('duel-room', d1);
    await cat!.commitMove('duel-room', d1, 'rock');
    const settled = await until('the deadline settles it', () => events.find((e) => e.id === d1 && e.phase === 'settled'), 10_000);
    t.equal(settled.data.winner, 'cat', 'ann never committed: cat wins');
    t.same(settled.data.forfeitedBy, ['ann']);
    t.ok(([ErrorCode.DUEL_STATE, ErrorCode.UNKNOWN_DUEL] as number[]).includes(await refusal(ann!.commitMove('duel-room', d1, 'rock'))), 'a move after the deadline is refused');
    const d2 = (await ben!.challenge('duel-room', 'duel-quit-1', 50, 'cat')).duel.id as string;
    await cat!.acceptDuel('duel-room', d2);
    await ben!.forfeitDuel('duel-room', d2);
    const quit = await until('forfeit settles', () => events.find((e) => e.id === d2 && e.phase === 'settled'));
    t.equal(quit.data.winner, 'cat');
    const d3 = (await ben!.challenge('duel-room', 'duel-none-1', 50, 'ann')).duel.id as string;
    const cancelled = await until('an unaccepted challenge is withdrawn', () => events.find((e) => e.id === d3 && e.phase === 'cancelled'), 10_000);
    t.equal(cancelled.data.reason, 'not accepted');
    await until('all paid', async () => {
      const x = await (await fetch(`${server.http}/debug/ledger/totals`)).json() as { held: number; issued: number };
      return x.held === x.issued;
    });
    await conserved(t, server);
  });

  t.test('against the bot: the outcome follows the committed seed, whatever the player plays', async (t) => {
    const d = (await cat!.challenge('duel-room', 'duel-bot-01', 20, '@bot', 'cats-seed')).duel;
    const id = d.id as string;
    t.match(d.serverSeedHash, /^[0-9a-f]{64}$/, 'the bot\'s seed is committed before the first move');
    for (let i = 0; i < 9; i++) {
      const move: DuelMove = (['rock', 'paper', 'scissors'] as const)[i % 3]!;
      await cat!.commitMove('duel-room', id, move);
      const after = await cat!.revealMove('duel-room', id);
      if (after.duel.phase === 'settled') break;
    }
    const settled = await until('bot duel settled', () => events.find((e) => e.id === id && e.phase === 'settled'));
    const seed = settled.data.serverSeed as string;
    t.equal(createHash('sha256').update(Buffer.from(seed, 'hex')).digest('hex'), d.serverSeedHash, 'the revealed seed matches the commitment');
    const rounds = settled.data.rounds as { moves: Record<string, DuelMove>; winner: string }[];
    for (const [i, r] of rounds.entries()) {
      const botWon = botWinsRound(seed, 'cats-seed', i + 1, 5000);
      t.equal(r.winner, botWon ? '@bot' : 'cat', `round ${i + 1}: the draw decided it`);
      t.equal(r.moves['@bot'], botWon ? wins(r.moves.cat!) : (wins(wins(r.moves.cat!))), 'the bot\'s move follows the draw');
    }
    await conserved(t, server);
  });
  t.teardown(() => [host, ann, ben, cat].forEach((c) => c!.close()));
});

t.test('responsible play: every limit refuses with its code and takes no stake', { timeout: 60_000 }, async (t) => {
  const server = await startServer({
    ...gamesEnv({ play: { dailyStakeCap: 150, minAccountAgeDays: 7, blockedCountries: ['XX'] } }),
    HALOBUZZ_DEBUG_ENDPOINTS: '1',
  });
  t.teardown(() => server.stop());
  const oldAccount = Math.floor(Date.now() / 1000) - 30 * 86400;
  const token = (user: string, since?: number) => signAccessToken({ sub: user, ttlSec: 3600, issuer: 'halobuzz', audience: 'halobuzz-realtime', ...(since !== undefined ? { since } : {}) }, TEST_SECRET);
  const host = server.client('limits-host');
  await host.connect();
  await host.join('limits', Role.HOST);
  const events: GameEvent[] = [];
  host.on('game', (e) => events.push(e));
  await host.startGame('limits');
  const open = await until('a round opens', () => events.find((e) => e.phase === 'open'));
  const player = async (user: string, since: number | undefined, country: string) => {
    await mint(server, user, 1000);
    const c = server.client(user, { token: token(user, since), client: { country } });
    await c.connect();
    await c.join('limits');
    return c;
  };
  const ok = await player('okplayer', oldAccount, 'NP');
  await ok.bet('limits', open.id, 'x2', 100, 'cap-bet-01');
  t.equal(await refusal(ok.bet('limits', open.id, 'x2', 100, 'cap-bet-02')), ErrorCode.DAILY_STAKE_LIMIT, '100 + 100 passes the cap of 150');
  t.equal((await ok.wallet()).balance, 900, 'the refused bet took nothing');

  const blocked = await player('blocked', oldAccount, 'XX');
  t.equal(await refusal(blocked.bet('limits', open.id, 'x2', 10, 'ctry-bet-01')), ErrorCode.COUNTRY_BLOCKED);
  const young = await player('young', Math.floor(Date.now() / 1000) - 86400, 'NP');
  t.equal(await refusal(young.bet('limits', open.id, 'x2', 10, 'young-bet-1')), ErrorCode.ACCOUNT_TOO_NEW);
  const unknownAge = await player('noage', undefined, 'NP');
  t.equal(await refusal(unknownAge.bet('limits', open.id, 'x2', 10, 'noage-bet-1')), ErrorCode.ACCOUNT_TOO_NEW, 'no account age in the token counts as too new');

  // Self-exclusion through the API (a registered account; its socket token says the account is old).
  const me = await apiUser(server, 'quitter');
  const quitter = await player(me.id, oldAccount, 'NP');
  const excluded = await fetch(`${server.api}/v1/me/games/self-exclusion`, {
    method: 'POST', headers: { authorization: `Bearer ${me.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ days: 30 }),
  });
  t.equal(excluded.status, 200);
  t.equal(await refusal(quitter.bet('limits', open.id, 'x2', 10, 'quit-bet-01')), ErrorCode.SELF_EXCLUDED);
  const limits = await (await fetch(`${server.api}/v1/me/games/limits`, { headers: { authorization: `Bearer ${me.token}` } })).json() as { stakedToday: number; dailyStakeCap: number; selfExcludedUntil: number };
  t.match(limits, { stakedToday: 0, dailyStakeCap: 150, selfExcludedUntil: Number });
  for (const [c, user] of [[blocked, 'blocked'], [young, 'young'], [unknownAge, 'noage'], [quitter, 'quitter']] as const) {
    t.equal((await c.wallet()).balance, 1000, `${user}: no stake taken`);
  }
  await host.stopGame('limits');
  for (const c of [host, ok, blocked, young, unknownAge, quitter]) c.close();
});

t.test('anomalies: a rigged client seed moves nothing; chip dumping raises a flag; a freeze stops play', { timeout: 120_000 }, async (t) => {
  const server = await startServer({ ...gamesEnv({ antiCheat: { pairMinDuels: 3, pairOneSidedShare: 0.9 } }), HALOBUZZ_DEBUG_ENDPOINTS: '1' });
  t.teardown(() => server.stop());
  const { host, clients: [dumper, taker], events } = await room(server, 'cheat-room', ['dumper', 'taker'], 5000);
  // Chip dumping: the dumper forfeits every duel to the same taker.
  for (let i = 0; i < 3; i++) {
    const id = (await taker!.challenge('cheat-room', `dump-duel-${i}`, 500, 'dumper')).duel.id as string;
    await dumper!.acceptDuel('cheat-room', id);
    await dumper!.forfeitDuel('cheat-room', id);
    await until(`duel ${i} settled`, () => events.find((e) => e.id === id && e.phase === 'settled'));
  }
  const auth = { authorization: `Bearer ${(await apiUser(server, 'staff', true)).token}` };
  const flags = await until('a chip-dumping flag', async () => {
    const body = await (await fetch(`${server.api}/v1/admin/games/flags`, { headers: auth })).json() as { flags: { kind: string; user: string; detail: string }[] };
    return body.flags.filter((f) => f.kind === 'chip_dumping').length >= 2 ? body.flags : null;
  });
  t.same(flags.filter((f) => f.kind === 'chip_dumping').map((f) => f.user).sort(), ['dumper', 'taker'], 'both sides of the pair are flagged');
  t.match(flags[0]!.detail, /won 3 of 3 duels/);
  t.equal((await fetch(`${server.api}/v1/admin/games/flags`, { headers: { authorization: `Bearer ${(await apiUser(server, 'nobody')).token}` } })).status, 403, 'flags are for staff');

  const freeze = await fetch(`${server.api}/v1/admin/games/freeze`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'taker', reason: 'chip dumping review' }) });
  t.equal(freeze.status, 200);
  t.equal(await refusal(taker!.challenge('cheat-room', 'after-freeze', 10, '@bot')), ErrorCode.PLAY_FROZEN, 'a frozen player cannot stake');

  // A rigged client seed: the draw depends on the committed server seed too, so choosing the client seed
  // after seeing the commitment still gives the outcome the proof recomputes; the client cannot pick it.
  await host.startGame('cheat-room');
  const open = await until('a round opens', () => events.find((e) => e.phase === 'open'));
  await dumper!.bet('cheat-room', open.id, 'x20', 10, 'rigged-bet-1', 'x20x20x20-please');
  const settled = await until('settled', () => events.find((e) => e.id === open.id && e.phase === 'settled'), 15_000);
  const expectedClientSeed = createHash('sha256').update('x20x20x20-please').digest('hex');
  t.equal(settled.data.clientSeed, expectedClientSeed, 'the round\'s client seed is derived from the players\' seeds, as documented');
  const proof = await (await fetch(`${server.api}/v1/games/rounds/${open.id}/proof`)).json() as { landed: string; serverSeed: string };
  t.equal(proof.landed, settled.data.landed, 'the outcome is the recomputable draw, not the player\'s wish');
  await host.stopGame('cheat-room');
  await conserved(t, server);
  for (const c of [host, dumper, taker]) c!.close();
});
