/**
 * A cluster node SIGKILLed in the middle of a wheel round: the room's owner dies after the bets were taken
 * and before the round settled. Its partitions move; the new owner rebuilds the room (its stored round and
 * the bets the ledger holds) and settles the round exactly once: every stake is either paid by that one
 * settle or refunded, the escrow ends empty, and coins are conserved.
 */
import t from 'tap';
import { Role } from '../../protocol/codes';
import { HaloClient, HaloError, type GameEvent } from '../../sdk/client';
import { nodeWebSocket } from '../../sdk/node';
import { MongoLedger } from '../../adapters/ledger/ledger-mongo';
import { parsePayouts, roundAccount, type LedgerTotals } from '../../adapters/ledger/ledger';
import { engineUrl } from '../helpers/services';
import { startCluster } from '../helpers/cluster';
import { gamesEnv, until } from '../helpers/games';

const kafka = engineUrl(t, 'kafka');
const redis = kafka ? engineUrl(t, 'redis') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;

if (kafka && redis && mongodb) {
  t.test('SIGKILL the room owner mid-round: the round settles once on the new owner', { timeout: 240_000 }, async (t) => {
    const cluster = await startCluster({ kafka, redis, mongodb }, 3, 'game', gamesEnv({ windowMs: 8000 }));
    t.teardown(() => cluster.stop());
    const room = 'wheel-kill';
    const ownerIndex = await cluster.ownerOf(room);
    t.ok(ownerIndex >= 0, `node n${ownerIndex + 1} owns the room`);
    const victim = cluster.nodes[ownerIndex]!;
    const survivors = cluster.nodes.filter((n) => n !== victim);
    const clients: HaloClient[] = [];
    t.teardown(() => clients.forEach((c) => c.close()));
    const make = (user: string, first: typeof victim) => {
      const c = new HaloClient({
        url: [first.url, ...cluster.nodes.filter((n) => n !== first).map((n) => n.url)], token: () => first.token(user),
        webSocket: nodeWebSocket, requestTimeoutMs: 15_000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500,
      });
      clients.push(c);
      return c;
    };
    const host = make('kill-host', survivors[0]!);
    await host.connect();
    await host.join(room, Role.HOST);
    const events: GameEvent[] = [];
    const watcher = make('kill-watcher', survivors[1]!);
    watcher.on('game', (e) => events.push(e));
    await watcher.connect();
    await watcher.join(room);
    const players = ['kp1', 'kp2', 'kp3', 'kp4', 'kp5', 'kp6'];
    const bettors: HaloClient[] = [];
    for (const [i, p] of players.entries()) {
      await cluster.mint(p, 1000);
      const c = make(p, survivors[i % 2]!);
      await c.connect();
      await c.join(room);
      bettors.push(c);
    }
    await host.startGame(room);
    const open = await until('a round opens', () => events.find((e) => e.phase === 'open'), 30_000);
    const segments = ['x2', 'x5', 'x10', 'x20'];
    const stakes = new Map<string, number>();
    await Promise.all(bettors.map(async (c, i) => {
      const coins = 10 * (i + 1);
      for (let attempt = 0; ; attempt++) {
        try {
          await c.bet(room, open.id, segments[i % 4]!, coins, `kill-bet-${i}-x`, `seed-${i}`);
          stakes.set(players[i]!, coins);
          return;
        } catch (err) {
          if (attempt > 40 || (err instanceof HaloError && err.code !== 207 && err.code !== 206 && err.code !== 130)) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }));
    t.equal(stakes.size, players.length, 'every bet acknowledged before the kill');
    await victim.kill();
    t.pass(`SIGKILLed n${ownerIndex + 1} while round ${open.id} was open`);

    const end = await until('the round settles (or is refunded) on the new owner', () => events.find((e) => e.id === open.id && (e.phase === 'settled' || e.phase === 'cancelled')), 120_000);
    const newOwner = await cluster.ownerOf(room);
    t.ok(newOwner >= 0 && newOwner !== ownerIndex, `the room moved to n${newOwner + 1}`);

    const ledger = await MongoLedger.connect({ url: cluster.env.MONGODB_URL!, leaseMs: 500 });
    t.teardown(() => ledger.close());
    // The MongoDB ledger moves the balances before it marks the operation applied: wait for the mark.
    await until('the round is settled (or refunded) in the ledger', async () => (end.phase === 'settled'
      ? (await ledger.entry(`settle:${open.id}`)) !== null
      : (await ledger.balance(roundAccount(open.id))) === 0), 60_000);
    await until('the escrow is empty', async () => (await ledger.balance(roundAccount(open.id))) === 0, 60_000);
    const settle = await ledger.entry(`settle:${open.id}`);
    let paid = new Map<string, number>();
    if (end.phase === 'settled') {
      t.ok(settle, 'one settle operation for the round');
      t.equal(settle!.meta.stakes, [...stakes.values()].reduce((a, b) => a + b, 0), 'it counts every stake taken before the kill, once');
      paid = new Map(parsePayouts(String(settle!.meta.payouts)) ?? []);
    } else {
      t.equal(settle, null, 'a refunded round has no settle');
    }
    for (const p of players) {
      const expected = 1000 - (end.phase === 'settled' ? stakes.get(p)! : 0) + (paid.get(p) ?? 0);
      t.equal(await ledger.balance(`user:${p}`), expected, `${p}: staked once, paid once`);
    }
    let totals: LedgerTotals | null = null;
    for (let i = 0; i < 60 && totals?.pending !== 0; i++) {
      totals = (await (await fetch(`${survivors[0]!.http}/debug/ledger/totals`)).json()) as LedgerTotals;
      if (totals.pending !== 0) await new Promise((r) => setTimeout(r, 500));
    }
    t.equal(totals!.held, totals!.issued, 'coins conserved');
    t.equal(totals!.negativeAccounts, 0);
    t.equal(totals!.pending, 0, 'nothing half-applied');
    await host.stopGame(room).catch(() => undefined);
  });
}
