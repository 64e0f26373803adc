/**
 * RealtimeStore on Redis (ioredis), for a cluster: when a room's partition moves, the new owner node
 * rebuilds the room from here, so the store must be shared by every node. Rooms are hot, small and
 * short-lived state (the money is in the ledger), which is what Redis is for.
 *
 * Layout under a prefix (default `halobuzz:`), values MessagePack. Every key of one room, one inbox, or the
 * notification outbox shares a hash tag (`{…}`), so on Redis Cluster each lives in one slot:
 *   rt:room:{<id>}          hash   owner, seq, stream, streamSeq, applied
 *   rt:room:{<id>}:history  zset   score seq, member msgpack [seq, frame]  (the resume window)
 *   rt:room:{<id>}:gifts    hash   ledger op id → seq, for the live stream's gift events
 *   rt:room:{<id>}:games    hash   game key → msgpack [rev, state] (state '' once the game finished)
 *   rt:{notify}             hash   notification id → msgpack [user, kind, data, at]  (the notification outbox)
 *   rt:{notify}:at          zset   score at, member id
 *   rt:inbox:{<user>}       hash   lastSeq, ackedSeq, applied
 *   rt:inbox:{<user>}:msgs  zset   score seq, member msgpack [seq, ts, from, text]
 *
 * A commit is one Lua script per room, inbox and the outbox it touches, each declaring its keys, so each
 * applies atomically and in order. On one Redis the scripts of a batch run in one MULTI (the whole batch
 * atomic); on Redis Cluster they run per slot, in parallel (rooms and inboxes are independent: each has
 * one writer, its actor). Every write is idempotent by its natural key (room+seq, user+seq; maxima for
 * seq, applied and acks), so a replayed batch (or the rest of one cut short) changes nothing twice.
 * Every key a commit touches gets a TTL: an abandoned room or inbox does not live forever.
 * Differences from the SQLite store: pruning drops gift events from the history window too (their op ids
 * stay in the gifts hash, which is all a rebuild needs).
 */
import { Cluster } from 'ioredis';
import { closeRedis, openRedis, scanKeys, type RedisClient } from '../redis/open-redis';
import { decodeInternal as decode, encodeInternal as encode } from '../../common/internal-codec';
import type { FrameRewrite, InboxSnapshot, OutboxNotification, RealtimeStore, RoomSnapshot, WriteBatch } from './realtime-store';
import { scrub, type Erasure, type ErasureCounts, type PersonalExport } from '../privacy/personal-data';

const HELPERS = `
local function raise(k, f, v)
  local cur = tonumber(redis.call('HGET', k, f) or '-1')
  if v > cur then redis.call('HSET', k, f, v) end
end
-- The first write of a seq wins: a replayed or conflicting one changes nothing.
local function addOnce(k, seq, member)
  if redis.call('ZCOUNT', k, seq, seq) == 0 then redis.call('ZADD', k, seq, member) end
end
`;

/** One room's writes. KEYS: state, history, gifts, games. ARGV: ttl, then ops. */
const COMMIT_ROOM = `${HELPERS}
local k, history, gifts, games = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local touched = false
local i = 2
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'O' then
    redis.call('HSETNX', k, 'owner', ARGV[i + 1])
    touched = true
    i = i + 2
  elseif op == 'S' then
    if ARGV[i + 1] == '' then redis.call('HDEL', k, 'stream') else redis.call('HSET', k, 'stream', ARGV[i + 1]) end
    redis.call('HSET', k, 'streamSeq', ARGV[i + 2])
    redis.call('DEL', gifts)
    touched = true
    i = i + 3
  elseif op == 'E' then
    local seq = tonumber(ARGV[i + 1])
    addOnce(history, seq, ARGV[i + 2])
    if ARGV[i + 3] ~= '' then redis.call('HSETNX', gifts, ARGV[i + 3], seq) end
    raise(k, 'seq', seq)
    touched = true
    i = i + 4
  elseif op == 'R' then
    local seq = tonumber(ARGV[i + 1])
    if redis.call('ZCOUNT', history, seq, seq) > 0 then
      redis.call('ZREMRANGEBYSCORE', history, seq, seq)
      redis.call('ZADD', history, seq, ARGV[i + 2])
    end
    i = i + 3
  elseif op == 'P' then
    redis.call('ZREMRANGEBYSCORE', history, '-inf', '(' .. ARGV[i + 1])
    i = i + 2
  elseif op == 'A' then
    raise(k, 'applied', tonumber(ARGV[i + 1]))
    touched = true
    i = i + 2
  elseif op == 'G' then
    local cur = redis.call('HGET', games, ARGV[i + 1])
    local rev = tonumber(ARGV[i + 2])
    if (not cur) or rev > tonumber(redis.call('HGET', games, ARGV[i + 1] .. ':rev') or '-1') then
      redis.call('HSET', games, ARGV[i + 1], ARGV[i + 3], ARGV[i + 1] .. ':rev', rev)
    end
    touched = true
    i = i + 4
  else
    return redis.error_reply('unknown room op ' .. tostring(op))
  end
end
if touched then
  local ttl = tonumber(ARGV[1])
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ttl) end
end
return 1
`;

/** One inbox's writes. KEYS: state, messages. ARGV: ttl, then ops. */
const COMMIT_INBOX = `${HELPERS}
local k, msgs = KEYS[1], KEYS[2]
local i = 2
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'I' then
    local seq = tonumber(ARGV[i + 1])
    addOnce(msgs, seq, ARGV[i + 2])
    raise(k, 'lastSeq', seq)
    i = i + 3
  elseif op == 'K' then
    local last = tonumber(redis.call('HGET', k, 'lastSeq') or '0')
    local upTo = math.min(tonumber(ARGV[i + 1]), last)
    raise(k, 'ackedSeq', upTo)
    redis.call('ZREMRANGEBYSCORE', msgs, '-inf', upTo)
    i = i + 2
  elseif op == 'U' then
    raise(k, 'applied', tonumber(ARGV[i + 1]))
    i = i + 2
  else
    return redis.error_reply('unknown inbox op ' .. tostring(op))
  end
end
redis.call('PEXPIRE', k, tonumber(ARGV[1]))
redis.call('PEXPIRE', msgs, tonumber(ARGV[1]))
return 1
`;

/** Notifications into the outbox. KEYS: by id, by time. ARGV: (id, at, body)... */
const COMMIT_NOTIFY = `
for i = 1, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2]) == 1 then
    redis.call('ZADD', KEYS[2], tonumber(ARGV[i + 1]), ARGV[i])
  end
end
return 1
`;

type Arg = string | Buffer | number;
type Scripted = { hbRoom(...args: Arg[]): Promise<number>; hbInbox(...args: Arg[]): Promise<number>; hbNotify(...args: Arg[]): Promise<number> };
type Client = RedisClient & Scripted;

/** The braces of a hash tag, taken off a name read back from a key. */
function untag(name: string): string {
  return name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
}

export interface RedisStoreOptions {
  readonly prefix?: string;
  /** Idle room state expires after this long (default 7 days). */
  readonly roomTtlMs?: number;
  /** An untouched inbox expires after this long (default 30 days). */
  readonly inboxTtlMs?: number;
}


export class RedisRealtimeStore implements RealtimeStore {
  private readonly prefix: string;
  private readonly roomTtlMs: number;
  private readonly inboxTtlMs: number;

  private constructor(private readonly redis: Client, options: RedisStoreOptions) {
    this.prefix = options.prefix ?? 'halobuzz:';
    this.roomTtlMs = options.roomTtlMs ?? 7 * 86_400_000;
    this.inboxTtlMs = options.inboxTtlMs ?? 30 * 86_400_000;
  }

  /** Connects and checks Redis answers (a configured engine that is down is an error, not a fallback). */
  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisRealtimeStore> {
    const redis = await openRedis(url);
    redis.defineCommand('hbRoom', { numberOfKeys: 4, lua: COMMIT_ROOM });
    redis.defineCommand('hbInbox', { numberOfKeys: 2, lua: COMMIT_INBOX });
    redis.defineCommand('hbNotify', { numberOfKeys: 2, lua: COMMIT_NOTIFY });
    return new RedisRealtimeStore(redis as Client, options);
  }

  private roomKey(room: string): string {
    return `${this.prefix}rt:room:{${room}}`;
  }

  private inboxKey(user: string): string {
    return `${this.prefix}rt:inbox:{${user}}`;
  }

  private get notifyKey(): string {
    return `${this.prefix}rt:{notify}`;
  }

  async loadRoom(room: string, historyLimit: number): Promise<RoomSnapshot> {
    const k = this.roomKey(room);
    const [[, state], [, members], [, gifts], [, games]] = (await this.redis.pipeline()
      .hgetall(k)
      .zrevrangeBuffer(`${k}:history`, '0', String(Math.max(0, historyLimit - 1)))
      .hgetall(`${k}:gifts`)
      .hgetall(`${k}:games`)
      .exec())! as [unknown, unknown][] as [[null, Record<string, string>], [null, Buffer[]], [null, Record<string, string>], [null, Record<string, string>]];
    const stream = state.stream ?? null;
    const streamSeq = Number(state.streamSeq ?? 0);
    const history = (historyLimit > 0 ? members : []).map((m) => {
      const [seq, frame] = decode(m) as [number, Uint8Array];
      return { seq, frame };
    }).reverse();
    return {
      owner: state.owner ?? null,
      seq: Number(state.seq ?? 0),
      stream,
      streamGifts: stream === null ? [] : Object.entries(gifts)
        .map(([opId, seq]) => ({ opId, seq: Number(seq) }))
        .filter((g) => g.seq > streamSeq)
        .sort((a, b) => a.seq - b.seq),
      history,
      applied: Number(state.applied ?? -1),
      state: Object.keys(games)
        .filter((key) => !key.endsWith(':rev') && games[key] !== '')
        .sort()
        .map((key) => ({ key, rev: Number(games[`${key}:rev`] ?? 0), state: games[key]! })),
    };
  }

  async loadInbox(user: string, limit: number): Promise<InboxSnapshot> {
    const k = this.inboxKey(user);
    const [[, state], [, msgs]] = (await this.redis.pipeline()
      .hgetall(k)
      .zrangeBuffer(`${k}:msgs`, '0', String(Math.max(0, limit - 1)))
      .exec())! as [unknown, unknown][] as [[null, Record<string, string>], [null, Buffer[]]];
    const ackedSeq = Number(state.ackedSeq ?? 0);
    const pending = (limit > 0 ? msgs : []).map((m) => {
      const [seq, ts, from, text] = decode(m) as [number, number, string, string];
      return { user, seq, ts, from, text };
    }).filter((m) => m.seq > ackedSeq);
    return { lastSeq: Number(state.lastSeq ?? 0), ackedSeq, pending, applied: Number(state.applied ?? -1) };
  }

  async commit(batch: WriteBatch): Promise<void> {
    // Each room's and inbox's ops in the order the SQLite store applies a batch in.
    const rooms = new Map<string, Arg[]>();
    const room = (id: string) => {
      let ops = rooms.get(id);
      if (!ops) rooms.set(id, (ops = []));
      return ops;
    };
    const inboxes = new Map<string, Arg[]>();
    const inbox = (user: string) => {
      let ops = inboxes.get(user);
      if (!ops) inboxes.set(user, (ops = []));
      return ops;
    };
    for (const o of batch.roomOwners) room(o.room).push('O', o.owner);
    for (const x of batch.roomStreams) room(x.room).push('S', x.stream ?? '', x.startSeq);
    for (const e of batch.roomEvents) room(e.room).push('E', e.seq, Buffer.from(encode([e.seq, e.frame])), e.opId ?? '');
    for (const r of batch.roomRedactions) room(r.room).push('R', r.seq, Buffer.from(encode([r.seq, r.frame])));
    for (const p of batch.roomPrunes) room(p.room).push('P', p.belowSeq);
    for (const a of batch.roomApplied) room(a.room).push('A', a.position);
    for (const g of batch.roomState) room(g.room).push('G', g.key, g.rev, g.state ?? '');
    for (const m of batch.inbox) inbox(m.user).push('I', m.seq, Buffer.from(encode([m.seq, m.ts, m.from, m.text])));
    for (const a of batch.inboxAcks) inbox(a.user).push('K', a.upTo);
    for (const a of batch.inboxApplied) inbox(a.user).push('U', a.position);
    const notify: Arg[] = batch.notify.flatMap((n) => [n.id, n.at, Buffer.from(encode([n.user, n.kind, n.data, n.at]))]);
    const calls: ((c: Scripted) => Promise<unknown>)[] = [];
    for (const [id, ops] of rooms) {
      const k = this.roomKey(id);
      calls.push((c) => c.hbRoom(k, `${k}:history`, `${k}:gifts`, `${k}:games`, this.roomTtlMs, ...ops));
    }
    for (const [user, ops] of inboxes) {
      const k = this.inboxKey(user);
      calls.push((c) => c.hbInbox(k, `${k}:msgs`, this.inboxTtlMs, ...ops));
    }
    if (notify.length > 0) calls.push((c) => c.hbNotify(this.notifyKey, `${this.notifyKey}:at`, ...notify));
    if (calls.length === 0) return;
    if (this.redis instanceof Cluster) {
      // One script per slot, in parallel (auto-pipelined per master); a failure leaves the others applied,
      // and the retry re-applies all of them harmlessly.
      await Promise.all(calls.map((call) => call(this.redis)));
      return;
    }
    const tx = this.redis.multi() as unknown as Scripted & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const call of calls) void call(tx);
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async roomEvent(room: string, seq: number): Promise<{ seq: number; frame: Uint8Array } | null> {
    const [member] = await this.redis.zrangebyscoreBuffer(`${this.roomKey(room)}:history`, seq, seq);
    if (!member) return null;
    const [at, frame] = decode(member) as [number, Uint8Array];
    return { seq: at, frame: new Uint8Array(frame) };
  }

  async pendingNotifications(limit: number): Promise<OutboxNotification[]> {
    const ids = await this.redis.zrange(`${this.notifyKey}:at`, '0', String(limit - 1));
    if (ids.length === 0) return [];
    const values = await this.redis.hmgetBuffer(this.notifyKey, ...ids);
    const out: OutboxNotification[] = [];
    values.forEach((v, i) => {
      if (!v) return;
      const [user, kind, data, at] = decode(v) as [string, string, OutboxNotification['data'], number];
      out.push({ id: ids[i]!, user, kind, data, at });
    });
    return out;
  }

  async ackNotifications(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.multi().zrem(`${this.notifyKey}:at`, ...ids).hdel(this.notifyKey, ...ids).exec();
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const roomMessages: unknown[] = [];
    for (const key of await this.keys('rt:room:*:history')) {
      const room = untag(key.slice(`${this.prefix}rt:room:`.length, -':history'.length));
      for (const m of await this.redis.zrangeBuffer(key, '0', '-1')) {
        const [seq, frame] = decode(m) as [number, Uint8Array];
        const f = decode(frame) as unknown[];
        // Sequenced room events name who sent them at index 4 (docs/protocol.md).
        if (f[4] === user) roomMessages.push({ room, seq, ts: f[3], frame: f });
      }
    }
    const received = (await this.redis.zrangeBuffer(`${this.inboxKey(user)}:msgs`, '0', '-1')).map((m) => {
      const [seq, ts, from, text] = decode(m) as [number, number, string, string];
      return { from, seq, ts, text };
    });
    const sent: unknown[] = [];
    for (const key of await this.keys('rt:inbox:*:msgs')) {
      const to = untag(key.slice(`${this.prefix}rt:inbox:`.length, -':msgs'.length));
      for (const m of await this.redis.zrangeBuffer(key, '0', '-1')) {
        const [, ts, from, text] = decode(m) as [number, number, string, string];
        if (from === user) sent.push({ to, ts, text });
      }
    }
    return { room_messages: roomMessages, direct_messages_received: received, direct_messages_sent: sent };
  }

  /** Scans the room windows and inboxes (both are bounded by their TTLs); each rewrite is idempotent. */
  async eraseUser(e: Erasure, rewrite: FrameRewrite): Promise<ErasureCounts> {
    const counts: ErasureCounts = {};
    const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
    const id = Buffer.from(e.user);
    for (const key of await this.keys('rt:room:*')) {
      const room = key.slice(`${this.prefix}rt:room:`.length);
      if (room.endsWith(':history')) {
        const name = untag(room.slice(0, -':history'.length));
        for (const m of await this.redis.zrangeBuffer(key, '0', '-1')) {
          if (!m.includes(id)) continue;
          const [seq, frame] = decode(m) as [number, Uint8Array];
          const f = decode(frame) as unknown[];
          const next = rewrite({ room: name, seq, ts: Number(f[3] ?? 0), sender: typeof f[4] === 'string' ? f[4] : '', frame });
          await this.redis.multi().zrem(key, m).zadd(key, String(seq), Buffer.from(encode([seq, next]))).exec();
          bump('room_events');
        }
      } else if (room.endsWith(':games')) {
        const games = await this.redis.hgetall(key);
        for (const [field, value] of Object.entries(games)) {
          if (!value.includes(e.user)) continue;
          await this.redis.hset(key, field, JSON.stringify(scrub(JSON.parse(value), e)));
          bump('room_state');
        }
      } else if (!room.endsWith(':gifts') && (await this.redis.hget(key, 'owner')) === e.user) {
        await this.redis.hset(key, 'owner', e.pseudonym);
        bump('room_owner');
      }
    }
    const inbox = this.inboxKey(e.user);
    if ((await this.redis.del(inbox, `${inbox}:msgs`)) > 0) bump('inbox');
    for (const key of await this.keys('rt:inbox:*:msgs')) {
      for (const m of await this.redis.zrangeBuffer(key, '0', '-1')) {
        if (!m.includes(id)) continue;
        const [seq, ts, from] = decode(m) as [number, number, string];
        if (from !== e.user) continue;
        await this.redis.multi().zrem(key, m).zadd(key, String(seq), Buffer.from(encode([seq, ts, e.pseudonym, '']))).exec();
        bump('inbox_sent');
      }
    }
    const notify = this.notifyKey;
    for (const [nid, raw] of Object.entries(await this.redis.hgetallBuffer(notify))) {
      if (!raw.includes(id)) continue;
      const [user, kind, data, at] = decode(raw) as [string, string, Record<string, unknown>, number];
      if (user === e.user) await this.redis.multi().hdel(notify, nid).zrem(`${notify}:at`, nid).exec();
      else await this.redis.hset(notify, nid, Buffer.from(encode([user, kind, scrub(data, e), at])));
      bump('notify_outbox');
    }
    return counts;
  }

  /** Every key under the prefix matching `pattern` (SCAN on every master, so Redis is never blocked). */
  private keys(pattern: string): Promise<string[]> {
    return scanKeys(this.redis, `${this.prefix}${pattern}`);
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}
