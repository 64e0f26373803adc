import t from 'tap';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ActorHost, type ActorHostOptions } from './actor-host';
import { CONN_SPACE, Cmd, Eff, withPosition, type Command, type Effect } from './messages';
import { SqliteRealtimeStore } from '../adapters/store/realtime-store-sqlite';
import { decode } from '../protocol/codec';
import { ErrorCode, Role, ServerOp } from '../protocol/codes';
import type { RealtimeStore, WriteBatch } from '../adapters/store/realtime-store';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { platformRevenueAccount, userAccount, type Ledger } from '../adapters/ledger/ledger';
import { GiftCatalog } from '../economy/gift-catalog';

const catalog = new GiftCatalog({ version: 3, gifts: [{ id: 'rose', name: 'Rose', price: 10, tier: 1 }, { id: 'car', name: 'Car', price: 1000, tier: 3 }] });

const dir = mkdtempSync(join(tmpdir(), 'hb-actors-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const options = (over: Partial<ActorHostOptions> = {}): ActorHostOptions => ({
  throughputPerTurn: 64,
  presenceIntervalMs: 60_000,
  passivateAfterMs: 60_000,
  room: { mailboxCapacity: 1000, historyLimit: 3, maxChatChars: 100, platformShareBps: 3000, leaderboardSize: 3, analytics: true },
  user: { mailboxCapacity: 1000, maxDmChars: 100, maxPendingInbox: 5 },
  ...over,
});

function harness(file: string, over: Partial<ActorHostOptions> = {}, store: RealtimeStore = new SqliteRealtimeStore(join(dir, file)),
  ledger: Ledger = new SqliteLedger(join(dir, `${file}.ledger`))) {
  const effects: Effect[] = [];
  const host = new ActorHost({ store, ledger, catalog }, options(over), (e) => effects.push(...e), (err) => {
    throw err;
  });
  const run = async (...cmds: Command[]) => {
    host.dispatch(cmds);
    await host.drain();
  };
  /** Frames sent directly to `conn`, decoded. */
  const sentTo = (conn: number) => effects.filter((e) => e[0] === Eff.SEND && e[1] === conn).map((e) => decode(e[2] as Uint8Array) as unknown[]);
  const published = (room: string) => effects.filter((e) => e[0] === Eff.PUBLISH && e[1] === room).map((e) => decode(e[2] as Uint8Array) as unknown[]);
  return { host, effects, run, sentTo, published, store, ledger };
}

t.test('join subscribes before replying; chat is sequenced, stored and published once', async (t) => {
  const h = harness('a.sqlite');
  await h.run([Cmd.JOIN, 1, 'alice', 'room', Role.HOST, 10, -1, 0, '', ''], [Cmd.JOIN, 2, 'bob', 'room', Role.VIEWER, 11, -1, 0, '', '']);
  const subIndex = h.effects.findIndex((e) => e[0] === Eff.SUBSCRIBE && e[1] === 1);
  const replyIndex = h.effects.findIndex((e) => e[0] === Eff.SEND && e[1] === 1);
  t.ok(subIndex >= 0 && subIndex < replyIndex, 'SUBSCRIBE precedes the join reply');
  t.match(h.sentTo(2)[0], [ServerOp.REPLY, 11, { room: 'room', seq: 1, viewers: 2, owner: 'alice', role: Role.VIEWER, live: true }]);
  await h.run([Cmd.CHAT, 1, 'alice', 'room', 12, 'one', 0], [Cmd.CHAT, 2, 'bob', 'room', 13, 'two', 0]);
  const chats = h.published('room').filter((f) => f[0] === ServerOp.ROOM_CHAT);
  t.same(chats.map((f) => [f[2], f[4], f[5]]), [[2, 'alice', 'one'], [3, 'bob', 'two']], 'after the stream start (seq 1)');
  const snap = await h.store.loadRoom('room', 10);
  t.same(snap.history.map((x) => x.seq), [1, 2, 3], 'every event is durable');
  h.host.stop();
});

t.test('only the owner may host; a refused host join releases the pending join', async (t) => {
  const h = harness('b.sqlite');
  await h.run([Cmd.JOIN, 1, 'alice', 'r', Role.HOST, 1, -1, 0, '', ''], [Cmd.JOIN, 2, 'bob', 'r', Role.HOST, 2, -1, 0, '', '']);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 2, ErrorCode.NOT_ROOM_OWNER]);
  t.ok(h.effects.some((e) => e[0] === Eff.UNSUBSCRIBE && e[1] === 2), 'core is told to drop the pending join');
  h.host.stop();
});

t.test('resume replays what was missed, flags a gap it cannot cover, and chat outside the room fails', async (t) => {
  const h = harness('c.sqlite');
  await h.run([Cmd.JOIN, 1, 'alice', 'r', Role.VIEWER, 1, -1, 0, '', '']);
  for (let i = 1; i <= 5; i++) await h.run([Cmd.CHAT, 1, 'alice', 'r', 10 + i, `m${i}`, 0]);
  await h.run([Cmd.JOIN, 2, 'bob', 'r', Role.VIEWER, 20, 3, 0, '', '']);
  const bob = h.sentTo(2);
  t.same(bob.filter((f) => f[0] === ServerOp.ROOM_CHAT).map((f) => f[2]), [4, 5], 'replays seq 4 and 5');
  t.match(bob.at(-1), [ServerOp.REPLY, 20, { seq: 5, missed: 2, resync: false }]);
  // historyLimit 3 keeps between 3 and 6 events; 10 more chats push seq 1..8 out.
  for (let i = 6; i <= 15; i++) await h.run([Cmd.CHAT, 1, 'alice', 'r', 10 + i, `m${i}`, 0]);
  await h.run([Cmd.JOIN, 3, 'carol', 'r', Role.VIEWER, 30, 1, 0, '', '']);
  t.match(h.sentTo(3).at(-1), [ServerOp.REPLY, 30, { seq: 15, resync: true }]);
  await h.run([Cmd.CHAT, 9, 'mallory', 'r', 40, 'sneaky', 0]);
  t.same(h.sentTo(9).at(-1)?.slice(0, 3), [ServerOp.ERROR, 40, ErrorCode.NOT_IN_ROOM]);
  h.host.stop();
});

t.test('a rebuilt host continues the room sequence from the store', async (t) => {
  const first = harness('d.sqlite');
  await first.run([Cmd.JOIN, 1, 'alice', 'r', Role.VIEWER, 1, -1, 0, '', '']);
  for (let i = 1; i <= 4; i++) await first.run([Cmd.CHAT, 1, 'alice', 'r', 10 + i, `m${i}`, 0]);
  first.host.stop();
  await first.store.close();
  const second = harness('d.sqlite');
  // After a worker restart the core re-attaches its connections as system messages.
  second.host.dispatch([[Cmd.JOIN, 1, 'alice', 'r', Role.VIEWER, 0, -1, 1, '', '']], true);
  await second.host.drain();
  t.same(second.sentTo(1).at(-1), [ServerOp.ROOM_RESYNC, 'r', 4], 'client learns the recovered seq');
  await second.run([Cmd.JOIN, 1, 'alice', 'r', Role.VIEWER, 2, 2, 0, '', '']);
  t.same(second.sentTo(1).filter((f) => f[0] === ServerOp.ROOM_CHAT).map((f) => f[2]), [3, 4], 'history survived');
  await second.run([Cmd.CHAT, 1, 'alice', 'r', 20, 'after restart', 0]);
  t.equal(second.published('r').find((f) => f[0] === ServerOp.ROOM_CHAT)?.[2], 5, 'the next seq is 5');
  second.host.stop();
});

t.test('DMs: stored for offline users, delivered in order on connect, never after an ack', async (t) => {
  const h = harness('e.sqlite');
  await h.run([Cmd.DM, 1, 'alice', 'bob', 1, 'first'], [Cmd.DM, 1, 'alice', 'bob', 2, 'second']);
  t.match(h.sentTo(1), [[ServerOp.REPLY, 1, { id: 1, online: false }], [ServerOp.REPLY, 2, { id: 2, online: false }]]);
  await h.run([Cmd.ONLINE, 5, 'bob', 0]);
  t.same(h.sentTo(5).map((f) => [f[0], f[1], f[4]]), [[ServerOp.DM, 1, 'first'], [ServerOp.DM, 2, 'second']]);
  await h.run([Cmd.INBOX_ACK, 5, 'bob', 3, 1], [Cmd.OFFLINE, 5, 'bob']);
  await h.run([Cmd.ONLINE, 6, 'bob', 0]);
  t.same(h.sentTo(6).map((f) => f[1]), [2], 'only the unacked message comes again');
  await h.run([Cmd.DM, 1, 'alice', 'bob', 3, 'live']);
  t.same(h.sentTo(6).at(-1)?.slice(0, 2), [ServerOp.DM, 3], 'an online user gets it at once');
  for (let i = 0; i < 3; i++) await h.run([Cmd.DM, 1, 'alice', 'bob', 10 + i, 'fill']);
  await h.run([Cmd.DM, 1, 'alice', 'bob', 20, 'overflow']);
  t.same(h.sentTo(1).at(-1)?.slice(0, 3), [ServerOp.ERROR, 20, ErrorCode.INBOX_FULL]);
  h.host.stop();
});

t.test('a full mailbox refuses with OVERLOADED but never refuses a disconnect', async (t) => {
  const h = harness('f.sqlite', { room: { mailboxCapacity: 2, historyLimit: 3, maxChatChars: 100, platformShareBps: 3000, leaderboardSize: 3, analytics: true } });
  h.host.dispatch([
    [Cmd.JOIN, 1, 'a', 'r', Role.VIEWER, 1, -1, 0, '', ''],
    [Cmd.JOIN, 2, 'b', 'r', Role.VIEWER, 2, -1, 0, '', ''],
    [Cmd.JOIN, 3, 'c', 'r', Role.VIEWER, 3, -1, 0, '', ''],
    [Cmd.LEAVE, 1, 'a', 'r', 0],
  ]);
  await h.host.drain();
  t.same(h.sentTo(3)[0]?.slice(0, 3), [ServerOp.ERROR, 3, ErrorCode.OVERLOADED]);
  t.equal(h.host.stats().dropped, 1);
  await h.run([Cmd.JOIN, 4, 'd', 'r', Role.VIEWER, 4, -1, 0, '', '']);
  t.match(h.sentTo(4).at(-1), [ServerOp.REPLY, 4, { viewers: 2 }], 'the disconnect was applied: b and d remain');
  h.host.stop();
});

t.test('no effect leaves before its writes are durable', async (t) => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = new SqliteRealtimeStore(join(dir, 'g.sqlite'));
  const slow: RealtimeStore = {
    loadRoom: (r, n) => inner.loadRoom(r, n),
    loadInbox: (u, n) => inner.loadInbox(u, n),
    pendingNotifications: (n) => inner.pendingNotifications(n),
    roomEvent: (r, s) => inner.roomEvent(r, s),
    ackNotifications: (ids) => inner.ackNotifications(ids),
    exportUser: (u) => inner.exportUser(u),
    eraseUser: (e, rewrite) => inner.eraseUser(e, rewrite),
    commit: async (b: WriteBatch) => {
      if (b.roomEvents.length > 0) await gate;
      order.push('commit');
      return inner.commit(b);
    },
    close: () => inner.close(),
  };
  const h = harness('g.sqlite', {}, slow);
  await h.run([Cmd.JOIN, 1, 'a', 'r', Role.VIEWER, 1, -1, 0, '', '']);
  const before = h.effects.length;
  h.host.dispatch([[Cmd.CHAT, 1, 'a', 'r', 2, 'held', 0]]);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(h.effects.length, before, 'nothing published while the commit is pending');
  release();
  await h.host.drain();
  t.ok(h.published('r').some((f) => f[0] === ServerOp.ROOM_CHAT), 'published after the commit');
  h.host.stop();
});

t.test('gifts: validated, committed, then broadcast; retries reuse the seq; errors move nothing', async (t) => {
  const h = harness('gift.sqlite');
  await h.ledger.apply({ kind: 'mint', opId: 'mint-fan-000001', user: 'fan', amount: 100, source: 'test' });
  await h.run([Cmd.JOIN, 2, 'fan', 'r', Role.VIEWER, 1, -1, 0, '', '']);
  await h.run([Cmd.GIFT, 2, 'fan', 'r', 2, 'rose', 1, 'op-gift-00001']);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 2, ErrorCode.ROOM_NOT_LIVE], 'no gifts before the host is live');
  await h.run([Cmd.JOIN, 1, 'host', 'r', Role.HOST, 3, -1, 0, '', '']);
  const live = h.published('r').find((f) => f[0] === ServerOp.ROOM_LIVE);
  t.equal(live?.[4], true, 'the owner joining as host starts the stream');
  t.match(h.sentTo(1).at(-1), [ServerOp.REPLY, 3, { live: true, giftTotal: 0 }]);
  await h.run([Cmd.GIFT, 1, 'host', 'r', 4, 'rose', 1, 'op-gift-00002']);
  t.same(h.sentTo(1).at(-1)?.slice(0, 3), [ServerOp.ERROR, 4, ErrorCode.CANNOT_GIFT_SELF]);
  await h.run([Cmd.GIFT, 2, 'fan', 'r', 5, 'unicorn', 1, 'op-gift-00003']);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 5, ErrorCode.UNKNOWN_GIFT]);
  await h.run([Cmd.GIFT, 2, 'fan', 'r', 6, 'car', 1, 'op-gift-00004']);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 6, ErrorCode.INSUFFICIENT_FUNDS]);
  t.equal(await h.ledger.balance(userAccount('fan')), 100, 'refusals moved nothing');

  await h.run([Cmd.GIFT, 2, 'fan', 'r', 7, 'rose', 3, 'op-gift-00005']);
  const gift = h.published('r').find((f) => f[0] === ServerOp.ROOM_GIFT)!;
  t.same(gift.slice(4), ['fan', 'rose', 3, 30, 30], 'sender, gift, count, coins, creator total');
  t.match(h.sentTo(2).at(-1), [ServerOp.REPLY, 7, { seq: gift[2], coins: 30, balance: 70, replayed: false }], 'the new balance goes to the sender');
  t.equal(await h.ledger.balance(userAccount('host')), 21);
  t.equal(await h.ledger.balance(platformRevenueAccount('r')), 9, 'the platform share, in the room\'s revenue account');

  await h.run([Cmd.GIFT, 2, 'fan', 'r', 8, 'rose', 3, 'op-gift-00005']);
  t.match(h.sentTo(2).at(-1), [ServerOp.REPLY, 8, { seq: gift[2], replayed: true }], 'a retry gets the same seq');
  t.equal(h.published('r').filter((f) => f[0] === ServerOp.ROOM_GIFT).length, 1, 'and no second broadcast');
  t.equal(await h.ledger.balance(userAccount('fan')), 70, 'and no second charge');
  await h.run([Cmd.GIFT, 2, 'fan', 'r', 9, 'rose', 4, 'op-gift-00005']);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 9, ErrorCode.OP_ID_REUSED]);

  await h.run([Cmd.ROOM_END, 2, 'fan', 'r', 10]);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 10, ErrorCode.NOT_ROOM_OWNER]);
  await h.run([Cmd.ROOM_END, 1, 'host', 'r', 11]);
  t.match(h.sentTo(1).at(-1), [ServerOp.REPLY, 11, { giftTotal: 30 }]);
  await h.run([Cmd.GIFT, 2, 'fan', 'r', 12, 'rose', 1, 'op-gift-00006']);
  t.same(h.sentTo(2).at(-1)?.slice(0, 3), [ServerOp.ERROR, 12, ErrorCode.ROOM_NOT_LIVE], 'gifts to an ended stream are refused');
  h.host.stop();
});

t.test('a gift the ledger committed but the room never sequenced is sequenced on rebuild, once', async (t) => {
  const first = harness('recon.sqlite');
  await first.ledger.apply({ kind: 'mint', opId: 'mint-fan-000002', user: 'fan', amount: 100, source: 'test' });
  await first.run([Cmd.JOIN, 1, 'host', 'r', Role.HOST, 1, -1, 0, '', ''], [Cmd.JOIN, 2, 'fan', 'r', Role.VIEWER, 2, -1, 0, '', '']);
  await first.run([Cmd.GIFT, 2, 'fan', 'r', 3, 'rose', 1, 'op-recon-0001']);
  const stream = (first.published('r').find((f) => f[0] === ServerOp.ROOM_LIVE)![5]) as string;
  // The worker dies after the ledger committed this one, before the room event was written.
  await first.ledger.apply({ kind: 'gift', opId: 'op-recon-0002', sender: 'fan', creator: 'host', room: 'r', stream, giftId: 'rose', count: 2, unitPrice: 10, platformShareBps: 3000 });
  first.host.stop();
  await first.store.close();
  await first.ledger.close();

  const second = harness('recon.sqlite');
  await second.run([Cmd.JOIN, 3, 'fan', 'r', Role.VIEWER, 4, 0, 0, '', '']);
  const replayed = second.sentTo(3).filter((f) => f[0] === ServerOp.ROOM_GIFT);
  t.same(replayed.map((f) => [f[4], f[6]]), [['fan', 1], ['fan', 2]], 'both committed gifts are in the room sequence');
  t.match(second.sentTo(3).at(-1), [ServerOp.REPLY, 4, { giftTotal: 30, top: [['fan', 30]] }], 'tallies rebuilt from the ledger');
  await second.run([Cmd.GIFT, 3, 'fan', 'r', 5, 'rose', 2, 'op-recon-0002']);
  t.match(second.sentTo(3).at(-1), [ServerOp.REPLY, 5, { seq: replayed[1]![2], replayed: true }], 'the client retry finds its seq');
  t.equal(second.published('r').filter((f) => f[0] === ServerOp.ROOM_GIFT).length, 1, 'sequenced exactly once');
  second.host.stop();
});

t.test('cluster: positions skip replays, tag origins, adopt re-attaching members, never a dead node\'s', async (t) => {
  const h = harness('cluster.sqlite', { tagOrigins: true });
  const node2 = (n: number) => 2 * CONN_SPACE + n;
  const node3 = (n: number) => 3 * CONN_SPACE + n;
  await h.run(withPosition([Cmd.JOIN, node2(1), 'host', 'c-room', Role.HOST, 1, -1, 0, '', ''], 10));
  await h.run(withPosition([Cmd.CHAT, node2(1), 'host', 'c-room', 2, 'first', 0], 11));
  // A new owner replays from an older committed offset: what was applied is skipped.
  await h.run(withPosition([Cmd.CHAT, node2(1), 'host', 'c-room', 2, 'first', 0], 11));
  t.equal(h.published('c-room').filter((f) => f[0] === ServerOp.ROOM_CHAT).length, 1, 'a replayed command is not applied twice');
  t.equal((await h.store.loadRoom('c-room', 10)).applied, 11, 'the position is stored with the room');
  t.ok(h.effects.some((e) => e[0] === Eff.ORIGIN && e[1] === 'room' && e[2] === 'c-room'), 'effects are tagged with their room');

  // Rebuilt elsewhere: a fresh host over the same store knows nobody, yet a member's chat from the log goes through.
  const other = new ActorHost({ store: h.store, ledger: h.ledger, catalog }, options({ tagOrigins: true }), (e) => h.effects.push(...e), (err) => {
    throw err;
  });
  other.dispatch([withPosition([Cmd.CHAT, node3(7), 'viewer', 'c-room', 5, 'during takeover', 0], 12)]);
  await other.drain();
  t.same(h.published('c-room').filter((f) => f[0] === ServerOp.ROOM_CHAT).map((f) => [f[2], f[5]]), [[2, 'first'], [3, 'during takeover']],
    'a member re-attaching after a takeover is not refused, and the seq continues');
  other.broadcast([Cmd.PURGE_NODE, 3]);
  other.dispatch([withPosition([Cmd.CHAT, node3(8), 'ghost', 'c-room', 6, 'from a dead node', 0], 13)]);
  await other.drain();
  t.match(h.sentTo(node3(8)).at(-1), [ServerOp.ERROR, 6, ErrorCode.NOT_IN_ROOM], 'a purged node\'s connection is refused');
  // Without a position (one node, no log) an unknown connection is refused as before.
  other.dispatch([[Cmd.CHAT, node2(9), 'stranger', 'c-room', 7, 'hi', 0]]);
  await other.drain();
  t.match(h.sentTo(node2(9)).at(-1), [ServerOp.ERROR, 7, ErrorCode.NOT_IN_ROOM]);
  other.stop();
  h.host.stop();
});

t.test('cluster: a gift the old owner applied, replayed by the new one, is answered again with its seq and sequenced once', async (t) => {
  const h = harness('cluster-gift.sqlite', { tagOrigins: true });
  const fan = 2 * CONN_SPACE + 3;
  await h.ledger.apply({ kind: 'mint', opId: 'mint-replay-gift', user: 'fan', amount: 100, source: 'test' });
  await h.run(withPosition([Cmd.JOIN, 2 * CONN_SPACE + 1, 'host', 'g-room', Role.HOST, 1, -1, 0, '', ''], 20));
  await h.run(withPosition([Cmd.JOIN, fan, 'fan', 'g-room', Role.VIEWER, 2, -1, 0, '', ''], 21));
  const gift = withPosition([Cmd.GIFT, fan, 'fan', 'g-room', 3, 'rose', 1, 'op-replayed-gift'], 22);
  await h.run(gift);
  const first = h.sentTo(fan).at(-1)!;
  t.match(first, [ServerOp.REPLY, 3, { replayed: false }]);
  // The old owner died before its reply left: the new owner replays the command from the log.
  const seen: unknown[] = [];
  const owner = new ActorHost({ store: h.store, ledger: h.ledger, catalog }, options({ tagOrigins: true }), (e) => {
    for (const x of e) if (x[0] === Eff.SEND && x[1] === fan) seen.push(decode(x[2] as Uint8Array));
  }, (err) => {
    throw err;
  });
  owner.dispatch([gift]);
  await owner.drain();
  t.match(seen.at(-1), [ServerOp.REPLY, 3, { seq: (first[2] as { seq: number }).seq, replayed: true }], 'the sender hears the outcome, at the seq it got');
  t.equal(h.published('g-room').filter((f) => f[0] === ServerOp.ROOM_GIFT).length, 1, 'and the gift is in the room once');
  t.equal(await h.ledger.balance(userAccount('fan')), 90, 'charged once');
  owner.stop();
  h.host.stop();
});

t.test('cluster: a purged node\'s unfinished ledger operations are handed to the ledger as anyone\'s', async (t) => {
  const gone: string[] = [];
  const inner = new SqliteLedger(join(dir, 'gone.ledger'));
  const ledger = new Proxy(inner, { get: (target, p) => (p === 'ownerGone' ? (tag: string) => void gone.push(tag) : Reflect.get(target, p)) }) as Ledger;
  const h = harness('gone.sqlite', { tagOrigins: true }, undefined, ledger);
  h.host.broadcast([Cmd.PURGE_NODE, 7]);
  t.same(gone, ['node7'], 'the dead node\'s owner tag');
  h.host.stop();
});

t.test('cluster: a replayed direct message is stored once', async (t) => {
  const h = harness('cluster-dm.sqlite', { tagOrigins: true });
  const dm = withPosition([Cmd.DM, 2 * CONN_SPACE + 1, 'amy', 'ben', 3, 'hello'], 40);
  await h.run(dm);
  const again = new ActorHost({ store: h.store, ledger: h.ledger, catalog }, options({ tagOrigins: true }), (e) => h.effects.push(...e), (err) => {
    throw err;
  });
  again.dispatch([dm, withPosition([Cmd.DM, 2 * CONN_SPACE + 1, 'amy', 'ben', 4, 'second'], 41)]);
  await again.drain();
  const inbox = await h.store.loadInbox('ben', 10);
  t.same(inbox.pending.map((m) => [m.seq, m.text]), [[1, 'hello'], [2, 'second']], 'the new owner skipped the DM the old one stored');
  t.equal(inbox.applied, 41);
  t.ok(h.effects.some((e) => e[0] === Eff.ORIGIN && e[1] === 'user' && e[2] === 'ben'), 'effects are tagged with their user');
  again.stop();
  h.host.stop();
});
