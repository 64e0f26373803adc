/**
 * The wheel through the SDK on a running server: 50 viewers bet for 20 rounds; every bet is settled once,
 * the ledger is conserved, each round's proof (the ROOM_GAME events and GET /v1/games/rounds/{id}/proof)
 * verifies with an HMAC computed here from docs/games.md alone, and a worker crash mid-round settles the
 * round exactly once.
 */
import t from 'tap';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { startServer, type ServerHandle } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { ShardMap } from '../../actors/sharding';
import type { GameEvent, HaloClient } from '../../sdk/client';
import { gamesEnv, until } from '../helpers/games';

interface Proof { serverSeed: string; serverSeedHash: string; clientSeed: string; nonce: number; landed: string }

/** docs/games.md § Verify a round by hand, for a table of [id, weight] segments. */
function landedFrom(p: Proof, segments: [string, number][]): string | null {
  if (createHash('sha256').update(Buffer.from(p.serverSeed, 'hex')).digest('hex') !== p.serverSeedHash) return null;
  const total = segments.reduce((n, [, w]) => n + w, 0);
  const limit = 2 ** 32 - (2 ** 32 % total);
  for (let extra = 0; extra < 4; extra++) {
    const d = createHmac('sha256', Buffer.from(p.serverSeed, 'hex')).update(extra === 0 ? `${p.clientSeed}:${p.nonce}` : `${p.clientSeed}:${p.nonce}:${extra}`).digest();
    for (let i = 0; i < 32; i += 4) {
      let x = d.readUInt32BE(i);
      if (x >= limit) continue;
      x %= total;
      for (const [id, w] of segments) {
        if (x < w) return id;
        x -= w;
      }
    }
  }
  return null;
}

async function mint(server: ServerHandle, user: string, coins: number): Promise<void> {
  const res = await fetch(`${server.http}/debug/mint?user=${user}&coins=${coins}&op=mint-${user}-${randomUUID()}`, { method: 'POST' });
  if (!res.ok) throw new Error(`mint: ${res.status}`);
}

async function totals(server: ServerHandle): Promise<{ held: number; issued: number; negativeAccounts: number }> {
  return (await fetch(`${server.http}/debug/ledger/totals`)).json() as Promise<{ held: number; issued: number; negativeAccounts: number }>;
}

function collect(c: HaloClient): GameEvent[] {
  const events: GameEvent[] = [];
  c.on('game', (e) => events.push(e));
  return events;
}

t.test('50 viewers, 20 wheel rounds: every bet settled once, proofs verify, coins conserved', { timeout: 240_000 }, async (t) => {
  const server = await startServer({ ...gamesEnv(), HALOBUZZ_DEBUG_ENDPOINTS: '1' });
  t.teardown(() => server.stop());
  const room = 'wheel-room';
  const host = server.client('wheelhost');
  await host.connect();
  await host.join(room, Role.HOST);
  const viewers = Array.from({ length: 50 }, (_, i) => `wv${String(i).padStart(2, '0')}`);
  const clients = viewers.map((v) => server.client(v));
  for (const [i, c] of clients.entries()) {
    await mint(server, viewers[i]!, 10_000);
    await c.connect();
    await c.join(room);
  }
  const seen = collect(clients[0]!);
  const listing = await clients[0]!.games(room) as { wheel: { segments: [string, number, number][]; rtpBps: number } };
  t.equal(listing.wheel.rtpBps, 9500, 'the wheel announces its return to player');
  const segments = listing.wheel.segments.map(([id, w]) => [id, w] as [string, number]);
  const bettable = listing.wheel.segments.filter(([, , m]) => m > 0).map(([id]) => id);

  await host.startGame(room);
  const staked = new Map<string, number>();
  const rounds: string[] = [];
  for (let r = 0; r < 20; r++) {
    const open = await until(`round ${r + 1} opens`, () => seen.find((e) => e.phase === 'open' && !rounds.includes(e.id)), 15_000);
    rounds.push(open.id);
    await Promise.all(clients.map(async (c, i) => {
      const betId = `b${r}x${i}x${randomUUID().slice(0, 8)}`;
      const segment = bettable[(i + r) % bettable.length]!;
      const coins = 1 + ((i * 7 + r) % 20);
      const first = await c.bet(room, open.id, segment, coins, betId, `seed-${viewers[i]}-${r}`);
      // A retry with the same bet id (a lost reply) stakes nothing more.
      const again = await c.bet(room, open.id, segment, coins, betId, `seed-${viewers[i]}-${r}`);
      t.equal(again.balance, first.balance, 'a retried bet moved no coins');
      staked.set(`${open.id}:${i}`, coins);
    }));
    await until(`round ${r + 1} settles`, () => seen.find((e) => e.phase === 'settled' && e.id === open.id), 30_000);
  }
  await host.stopGame(room);

  let verified = 0;
  for (const id of rounds) {
    const locked = seen.find((e) => e.id === id && e.phase === 'locked')!;
    const settled = seen.find((e) => e.id === id && e.phase === 'settled')!;
    const open = seen.find((e) => e.id === id && e.phase === 'open')!;
    t.equal(locked.data.bets, 50, `round ${id}: 50 bets, one per viewer`);
    t.equal(settled.data.serverSeedHash, open.data.serverSeedHash, 'the revealed seed is the one committed when the round opened');
    const proof = await (await fetch(`${server.api}/v1/games/rounds/${id}/proof`)).json() as Proof & { stakes: number; payouts: [string, number][] };
    t.equal(landedFrom(proof, segments), settled.data.landed, `round ${id}: the proof from the API recomputes to ${settled.data.landed as string}`);
    t.equal(landedFrom(settled.data as unknown as Proof, segments), settled.data.landed);
    // Each winner is paid their stake times the segment's multiplier, floored.
    const mult = listing.wheel.segments.find(([s]) => s === settled.data.landed)![2];
    const expected = new Map<string, number>();
    for (const [i] of clients.entries()) {
      const segment = bettable[(i + rounds.indexOf(id)) % bettable.length]!;
      if (segment === settled.data.landed) expected.set(viewers[i]!, Math.floor((staked.get(`${id}:${i}`)! * mult) / 10_000));
    }
    t.same(new Map(proof.payouts), expected, `round ${id}: every winner paid once, exactly`);
    verified++;
  }
  t.equal(verified, 20);
  const x = await totals(server);
  t.equal(x.held, x.issued, 'coins conserved: every escrow emptied into winners, host and house');
  t.equal(x.negativeAccounts, 0);
  for (const c of [host, ...clients]) c.close();
});

t.test('a worker crash mid-round: the rebuilt room settles the round exactly once', async (t) => {
  const server = await startServer({ ...gamesEnv({ windowMs: 3000 }), HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_SHARDS: '64' });
  t.teardown(() => server.stop());
  const room = 'wheel-crash';
  const host = server.client('crashhost');
  const fan = server.client('crashfan');
  await mint(server, 'crashfan', 1000);
  await host.connect();
  await fan.connect();
  await host.join(room, Role.HOST);
  await fan.join(room);
  const seen = collect(fan);
  await host.startGame(room);
  const open = await until('a round opens', () => seen.find((e) => e.phase === 'open'), 10_000);
  const bet = await fan.bet(room, open.id, 'x2', 100, 'crash-bet-1', 'fan-seed');
  t.equal(bet.balance, 900);
  const worker = new ShardMap(64, 2).workerOf('room', room);
  t.equal((await fetch(`${server.http}/debug/workers/${worker}/crash`, { method: 'POST' })).status, 202);
  const settled = await until('the round settles after the rebuild', () => seen.find((e) => e.phase === 'settled' && e.id === open.id), 20_000);
  t.equal(settled.data.stakes, 100, 'the stake taken before the crash is in the round');
  await until('paid', async () => {
    const x = await totals(server);
    return x.held === x.issued;
  }, 10_000);
  const wallet = await fan.wallet();
  t.equal(wallet.balance, settled.data.landed === 'x2' ? 1100 : 900, 'paid once (or lost once)');
  const retry = await fan.bet(room, open.id, 'x2', 100, 'crash-bet-1', 'fan-seed').catch((e: Error) => e);
  t.ok(retry instanceof Error || retry.replayed, 'a retried bet after settlement takes nothing');
  const x = await totals(server);
  t.equal(x.held, x.issued);
  await host.stopGame(room);
  host.close();
  fan.close();
});
