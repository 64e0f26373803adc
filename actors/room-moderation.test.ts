/**
 * Room moderation inside the room actor, in process: who may do what, mute, kick, ban by user and device,
 * deleted messages (live and on resume), slow mode, followers-only, the filter before sequencing, shadow
 * mutes, and a rebuilt room that still enforces what was decided.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ActorHost } from './actor-host';
import { ChatFlag, Eff, cmd, type Command, type Effect } from './messages';
import { SqliteRealtimeStore } from '../adapters/store/realtime-store-sqlite';
import { decode } from '../protocol/codec';
import { ErrorCode, Role, ServerOp } from '../protocol/codes';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { GiftCatalog } from '../economy/gift-catalog';
import { ChatFilter } from '../moderation/chat-filter';

const dir = mkdtempSync(join(tmpdir(), 'hb-mod-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const filter = ChatFilter.fromFile(join(__dirname, '..', '..', 'config', 'moderation.json'));
const catalog = new GiftCatalog({ version: 1, gifts: [{ id: 'rose', name: 'Rose', price: 1, tier: 1 }] });

function harness(file: string, clock: { now: number }, fans: Set<string> = new Set()) {
  const store = new SqliteRealtimeStore(join(dir, file));
  const ledger = new SqliteLedger(join(dir, `${file}.ledger`));
  const effects: Effect[] = [];
  const filtered: string[] = [];
  const host = new ActorHost({
    store, ledger, catalog, filter, onFilter: (rule, action) => void filtered.push(`${rule}:${action}`),
    follows: { isFollowing: async (follower) => fans.has(follower) },
  }, {
    throughputPerTurn: 64, presenceIntervalMs: 60_000, passivateAfterMs: 60_000,
    room: { mailboxCapacity: 1000, historyLimit: 50, maxChatChars: 200, platformShareBps: 3000, leaderboardSize: 3, analytics: false },
    user: { mailboxCapacity: 1000, maxDmChars: 100, maxPendingInbox: 5 },
  }, (e) => effects.push(...e), (err) => {
    throw err;
  }, undefined, () => clock.now);
  const run = async (...cmds: Command[]) => {
    host.dispatch(cmds);
    await host.drain();
  };
  const sentTo = (conn: number) => effects.filter((e) => e[0] === Eff.SEND && e[1] === conn).map((e) => decode(e[2] as Uint8Array) as unknown[]);
  const last = (conn: number) => sentTo(conn).at(-1)!;
  const published = () => effects.filter((e) => e[0] === Eff.PUBLISH).map((e) => decode(e[2] as Uint8Array) as unknown[]);
  const unsubscribed = (conn: number) => effects.some((e) => e[0] === Eff.UNSUBSCRIBE && e[1] === conn);
  const join_ = (conn: number, user: string, role: Role = Role.VIEWER, device = '', sinceSeq = -1) =>
    run(cmd.join({ conn, user, room: 'r', role, ref: conn * 100, sinceSeq, reattach: false, device }));
  const chat = (conn: number, user: string, text: string, flags = 0) => run(cmd.chat({ conn, user, room: 'r', ref: conn * 100 + 1, text, flags }));
  const mod = (conn: number, user: string, action: string, args: unknown[], staff = false) =>
    run(cmd.mod({ conn, user, room: 'r', ref: conn * 100 + 2, action, args, staff }));
  return { host, store, ledger, effects, filtered, run, sentTo, last, published, unsubscribed, join: join_, chat, mod };
}

const errorCode = (frame: unknown[]) => (frame[0] === ServerOp.ERROR ? frame[2] : 'reply');

t.test('roles: the host appoints; moderators moderate viewers but not the host or each other; viewers nothing', async (t) => {
  const clock = { now: 1_000_000 };
  const h = harness('roles.sqlite', clock);
  t.teardown(() => h.host.stop());
  await h.join(1, 'host', Role.HOST);
  await h.join(2, 'mo');
  await h.join(3, 'vic');
  await h.join(4, 'mo2');
  await h.mod(3, 'vic', 'mute', ['mo', 60]);
  t.equal(errorCode(h.last(3)), ErrorCode.NOT_MODERATOR, 'a viewer cannot moderate');
  await h.mod(2, 'mo', 'appoint', ['mo']);
  t.equal(errorCode(h.last(2)), ErrorCode.NOT_MODERATOR, 'nobody appoints themselves');
  await h.mod(1, 'host', 'appoint', ['mo']);
  t.match(h.last(1), [ServerOp.REPLY, 102, { action: 'appoint', user: 'mo' }]);
  await h.mod(1, 'host', 'appoint', ['mo2']);
  await h.mod(2, 'mo', 'appoint', ['vic']);
  t.equal(errorCode(h.last(2)), ErrorCode.NOT_MODERATOR, 'moderators do not appoint');
  await h.mod(2, 'mo', 'mute', ['host', 60]);
  t.equal(errorCode(h.last(2)), ErrorCode.CANNOT_MODERATE, 'not against the host');
  await h.mod(2, 'mo', 'kick', ['mo2']);
  t.equal(errorCode(h.last(2)), ErrorCode.CANNOT_MODERATE, 'not against another moderator');
  await h.mod(2, 'mo', 'mute', ['vic', 60]);
  t.match(h.last(2), [ServerOp.REPLY, 202, { action: 'mute', user: 'vic', until: clock.now + 60_000 }]);
  const event = h.published().at(-1)!;
  t.match(event, [ServerOp.ROOM_MOD, 'r', Number, clock.now, 'mo', 'mute', { user: 'vic', until: clock.now + 60_000 }], 'a sequenced ROOM_MOD event');
  await h.chat(3, 'vic', 'hello?');
  t.match(h.last(3), [ServerOp.ERROR, 301, ErrorCode.MUTED, String, { until: clock.now + 60_000 }]);
  clock.now += 61_000;
  await h.chat(3, 'vic', 'back again');
  t.match(h.last(3), [ServerOp.REPLY, 301, { seq: Number }], 'the mute ends on its own');
  await h.mod(1, 'host', 'state', []);
  t.match(h.last(1), [ServerOp.REPLY, 102, { moderators: ['mo', 'mo2'], mutes: [], bans: [], slowSec: 0, followersOnly: false, filter: 'standard' }]);
  await h.mod(9, 'staff', 'kick', ['vic'], true);
  t.match(h.last(9), [ServerOp.REPLY, 902, { action: 'kick' }], 'staff act in any room without joining');
});

t.test('kick and ban take the user out; a ban refuses JOIN and RESUME, by user and by device; evasion is flagged', async (t) => {
  const clock = { now: 2_000_000 };
  const h = harness('bans.sqlite', clock);
  t.teardown(() => h.host.stop());
  await h.join(1, 'host', Role.HOST);
  await h.join(2, 'troll', Role.VIEWER, 'install-troll-1');
  await h.join(3, 'troll', Role.VIEWER, 'install-troll-1');
  await h.mod(1, 'host', 'kick', ['nobody']);
  t.equal(errorCode(h.last(1)), ErrorCode.NOT_IN_ROOM, 'kicking someone absent is an error');
  await h.mod(1, 'host', 'kick', ['troll']);
  t.ok(h.unsubscribed(2) && h.unsubscribed(3), 'every connection of the kicked user left');
  await h.join(2, 'troll', Role.VIEWER, 'install-troll-1');
  t.match(h.last(2), [ServerOp.REPLY, 200, { room: 'r' }], 'a kicked user may come back');
  await h.mod(1, 'host', 'ban', ['troll', 0, true]);
  t.match(h.last(1), [ServerOp.REPLY, 102, { action: 'ban', user: 'troll', until: 0, devices: 1 }]);
  await h.join(2, 'troll', Role.VIEWER, 'install-troll-1', 0);
  t.match(h.last(2), [ServerOp.ERROR, 200, ErrorCode.BANNED, String, { until: 0 }], 'RESUME refused');
  await h.join(5, 'troll-alt', Role.VIEWER, 'install-troll-1');
  t.match(h.last(5), [ServerOp.ERROR, 500, ErrorCode.BANNED, 'this device is banned from this room', { until: 0 }], 'a new account on the banned device is refused');
  const outbox = await h.store.pendingNotifications(100);
  t.match(outbox.filter((n) => n.kind === 'mod_flag'), [{ user: 'troll-alt', data: { reason: 'ban_evasion', room: 'r', banned: 'troll', device: 'install-troll-1' } }], 'and flagged for review');
  t.match(outbox.filter((n) => n.kind === 'mod_action').map((n) => n.data.action), ['kick', 'ban'], 'every action goes to the audit log');
  await h.join(6, 'bystander', Role.VIEWER, 'install-other');
  t.match(h.last(6), [ServerOp.REPLY, 600, { room: 'r' }], 'other devices are fine');
  await h.mod(1, 'host', 'ban', ['temp', 60]);
  await h.join(7, 'temp');
  t.equal(errorCode(h.last(7)), ErrorCode.BANNED);
  clock.now += 61_000;
  await h.join(7, 'temp');
  t.equal(errorCode(h.last(7)), 'reply', 'a timed ban ends');
  await h.mod(1, 'host', 'unban', ['troll']);
  await h.join(2, 'troll', Role.VIEWER, 'install-troll-1');
  t.equal(errorCode(h.last(2)), 'reply', 'unbanned');
});

t.test('a deleted message leaves live screens and resumed history, at the same seq', async (t) => {
  const clock = { now: 3_000_000 };
  const h = harness('delete.sqlite', clock);
  t.teardown(() => h.host.stop());
  await h.join(1, 'host', Role.HOST);
  await h.join(2, 'mo');
  await h.join(3, 'rude');
  await h.mod(1, 'host', 'appoint', ['mo']);
  await h.chat(3, 'rude', 'something awful');
  const seq = (h.last(3)[2] as { seq: number }).seq;
  await h.chat(1, 'host', 'welcome all');
  const hostSeq = (h.last(1)[2] as { seq: number }).seq;
  await h.mod(2, 'mo', 'delete', [hostSeq]);
  t.equal(errorCode(h.last(2)), ErrorCode.CANNOT_MODERATE, "moderators cannot delete the host's messages");
  await h.mod(2, 'mo', 'delete', [1]);
  t.equal(errorCode(h.last(2)), ErrorCode.UNKNOWN_MESSAGE, 'only chat messages can be deleted (seq 1 is the stream start)');
  await h.mod(2, 'mo', 'delete', [seq]);
  t.match(h.last(2), [ServerOp.REPLY, 202, { action: 'delete', message: seq, user: 'rude' }]);
  t.match(h.published().at(-1), [ServerOp.ROOM_MOD, 'r', Number, Number, 'mo', 'delete', { message: seq, user: 'rude' }], 'live viewers are told');
  await h.join(4, 'late', Role.VIEWER, '', 0);
  const replay = h.sentTo(4).filter((f) => f[0] !== ServerOp.REPLY);
  t.notOk(replay.some((f) => f[0] === ServerOp.ROOM_CHAT && f[5] === 'something awful'), 'a resume never shows it');
  t.match(replay.find((f) => f[2] === seq), [ServerOp.ROOM_MOD, 'r', seq, Number, 'mo', 'removed', { user: 'rude' }], 'its seq holds a tombstone, so there is no gap');
  t.same(replay.map((f) => f[2]), [...Array(replay.length).keys()].map((i) => i + 1), 'the replay has every seq');
  const stored = await h.store.roomEvent('r', seq);
  t.equal((decode(stored!.frame) as unknown[])[5], 'removed', 'the store holds the tombstone too');
});

t.test('slow mode, followers-only, the filter before sequencing, and shadow mutes', async (t) => {
  const clock = { now: 4_000_000 };
  const fans = new Set(['fan']);
  const h = harness('chat.sqlite', clock, fans);
  t.teardown(() => h.host.stop());
  await h.join(1, 'host', Role.HOST);
  await h.join(2, 'fan');
  await h.join(3, 'stranger');
  await h.mod(1, 'host', 'slow', [10]);
  await h.chat(3, 'stranger', 'one');
  await h.chat(3, 'stranger', 'two');
  t.match(h.last(3), [ServerOp.ERROR, 301, ErrorCode.SLOW_MODE, String, { retryAfterMs: 10_000 }]);
  await h.chat(1, 'host', 'hosts are exempt');
  await h.chat(1, 'host', 'twice');
  t.equal(errorCode(h.last(1)), 'reply');
  clock.now += 10_000;
  await h.chat(3, 'stranger', 'three');
  t.equal(errorCode(h.last(3)), 'reply', 'after the wait');
  await h.mod(1, 'host', 'slow', [0]);
  await h.mod(1, 'host', 'followers', [true]);
  await h.chat(3, 'stranger', 'let me talk');
  t.equal(errorCode(h.last(3)), ErrorCode.FOLLOWERS_ONLY);
  await h.chat(2, 'fan', 'I follow');
  t.equal(errorCode(h.last(2)), 'reply', 'a follower chats');
  fans.add('stranger');
  await h.chat(3, 'stranger', 'I just followed');
  t.equal(errorCode(h.last(3)), ErrorCode.FOLLOWERS_ONLY, 'a refusal is believed for a few seconds');
  clock.now += 5000;
  await h.chat(3, 'stranger', 'I just followed');
  t.equal(errorCode(h.last(3)), 'reply', 'then the follow store is asked again');
  fans.delete('stranger');
  await h.mod(1, 'host', 'followers', [false]);

  const before = h.published().length;
  await h.chat(3, 'stranger', 'what a load of shit');
  t.match(h.published().at(-1), [ServerOp.ROOM_CHAT, 'r', Number, Number, 'stranger', 'what a load of ****'], 'masked at standard');
  await h.chat(3, 'stranger', 'buy coins at cheapcoins.xyz');
  t.match(h.last(3), [ServerOp.ERROR, 301, ErrorCode.SPAM, String, { rule: 'links' }]);
  await h.mod(1, 'host', 'filter', ['strict']);
  await h.chat(3, 'stranger', 'shit');
  t.match(h.last(3), [ServerOp.ERROR, 301, ErrorCode.MESSAGE_BLOCKED, String, { rule: 'profanity' }], 'blocked at strict');
  await h.mod(1, 'host', 'filter', ['standard']);
  await h.chat(3, 'stranger', 'text me at +1 555 010 9999');
  const flaggedSeq = (h.last(3)[2] as { seq: number }).seq;
  const flags = (await h.store.pendingNotifications(100)).filter((n) => n.kind === 'mod_flag');
  t.match(flags, [{ id: `flag:r:${flaggedSeq}`, user: 'stranger', data: { reason: 'contact', room: 'r', seq: flaggedSeq } }], 'flagged, sent, queued for review');
  for (let i = 0; i < 3; i++) await h.chat(2, 'fan', 'FOLLOW ME');
  t.match(h.last(2), [ServerOp.ERROR, 201, ErrorCode.SPAM, String, { rule: 'repeat' }], 'the third repeat is spam');
  t.ok(h.published().length - before >= 3);
  t.match(h.filtered, ['profanity:mask', 'links:block', 'profanity:block', 'contact:flag', 'repeat:block'], 'every decision counted');

  const published = h.published().length;
  await h.chat(3, 'stranger', 'can anyone see me', ChatFlag.SHADOW_MUTED);
  t.match(h.last(3), [ServerOp.REPLY, 301, { seq: Number }], 'a normal reply');
  t.match(h.sentTo(3).at(-2), [ServerOp.ROOM_CHAT, 'r', 0, Number, 'stranger', 'can anyone see me'], 'echoed to the sender, unsequenced');
  t.equal(h.published().length, published, 'nobody else sees it');
});

t.test('a rebuilt room enforces the bans, mutes and settings it stored', async (t) => {
  const clock = { now: 5_000_000 };
  const first = harness('rebuild.sqlite', clock);
  await first.join(1, 'host', Role.HOST);
  await first.join(2, 'bad', Role.VIEWER, 'install-bad-01');
  await first.join(3, 'loud');
  await first.mod(1, 'host', 'ban', ['bad', 0, true]);
  await first.mod(1, 'host', 'mute', ['loud', 600]);
  await first.mod(1, 'host', 'appoint', ['helper']);
  await first.mod(1, 'host', 'slow', [30]);
  first.host.stop();
  await first.store.close();
  const second = harness('rebuild.sqlite', clock);
  t.teardown(() => second.host.stop());
  await second.join(5, 'bad');
  t.equal(errorCode(second.last(5)), ErrorCode.BANNED);
  await second.join(6, 'bad-alt', Role.VIEWER, 'install-bad-01');
  t.equal(errorCode(second.last(6)), ErrorCode.BANNED, 'the device too');
  await second.join(3, 'loud');
  t.match(second.last(3), [ServerOp.REPLY, 300, { slowSec: 30, modRole: 'viewer', mutedUntil: clock.now + 600_000 }]);
  await second.join(7, 'helper');
  await second.mod(7, 'helper', 'state', []);
  t.match(second.last(7), [ServerOp.REPLY, 702, { moderators: ['helper'], bans: [{ user: 'bad', until: 0, devices: 1 }] }]);
});

t.test('moderators of one room are viewers in another', async (t) => {
  const clock = { now: 6_000_000 };
  const h = harness('rooms.sqlite', clock);
  t.teardown(() => h.host.stop());
  await h.join(1, 'host', Role.HOST);
  await h.mod(1, 'host', 'appoint', ['mo']);
  await h.run(cmd.join({ conn: 2, user: 'other-host', room: 'r2', role: Role.HOST, ref: 1, sinceSeq: -1, reattach: false }),
    cmd.join({ conn: 3, user: 'mo', room: 'r2', role: Role.VIEWER, ref: 2, sinceSeq: -1, reattach: false }),
    cmd.join({ conn: 4, user: 'victim', room: 'r2', role: Role.VIEWER, ref: 3, sinceSeq: -1, reattach: false }));
  await h.run(cmd.mod({ conn: 3, user: 'mo', room: 'r2', ref: 9, action: 'kick', args: ['victim'], staff: false }));
  t.equal(errorCode(h.last(3)), ErrorCode.NOT_MODERATOR);
});
