/**
 * RealtimeStore on Redis (ioredis), for a cluster: when a room's partition moves, the new owner node
 * rebuilds the room from here, so the store must be shared by every node. Rooms are hot, small and
 * short-lived state (the money is in the ledger), which is what Redis is for.
 *
 * Layout under a prefix (default `halobuzz:`), values MessagePack:
 *   rt:room:<id>          hash   owner, seq, stream, streamSeq, applied
 *   rt:room:<id>:history  zset   score seq, member msgpack [seq, frame]  (the resume window)
 *   rt:room:<id>:gifts    hash   ledger op id → seq, for the live stream's gift events
 *   rt:room:<id>:games    hash   game key → msgpack [rev, state] (state '' once the game finished)
 *   rt:notify             hash   notification id → msgpack [user, kind, data, at]  (the notification outbox)
 *   rt:notify:at          zset   score at, member id
 *   rt:inbox:<user>       hash   lastSeq, ackedSeq, applied
 *   rt:inbox:<user>:msgs  zset   score seq, member msgpack [seq, ts, from, text]
 *
 * A commit is one Lua script, so a batch applies atomically and in order; every write is idempotent by its
 * natural key (room+seq, user+seq; maxima for seq, applied and acks), so a replayed batch changes nothing.
 * Every key a commit touches gets a TTL: an abandoned room or inbox does not live forever.
 * Differences from the SQLite store: pruning drops gift events from the history window too (their op ids
 * stay in the gifts hash, which is all a rebuild needs). The script builds key names itself, so it runs on
 * one Redis (or a primary with replicas), not on Redis Cluster.
 */
import type Redis from 'ioredis';
import { openRedis } from '../redis/open-redis';
import { decodeInternal as decode, encodeInternal as encode } from '../../common/internal-codec';
import type { FrameRewrite, InboxSnapshot, OutboxNotification, RealtimeStore, RoomSnapshot, WriteBatch } from './realtime-store';
import { scrub, type Erasure, type ErasureCounts, type PersonalExport } from '../privacy/personal-data';

const COMMIT = `
local P = ARGV[1]
local roomTtl = tonumber(ARGV[2])
local inboxTtl = tonumber(ARGV[3])
local rooms, users = {}, {}
local function raise(k, f, v)
  local cur = tonumber(redis.call('HGET', k, f) or '-1')
  if v > cur then redis.call('HSET', k, f, v) end
end
-- The first write of a seq wins: a replayed or conflicting one changes nothing.
local function addOnce(k, seq, member)
  if redis.call('ZCOUNT', k, seq, seq) == 0 then redis.call('ZADD', k, seq, member) end
end
local i = 4
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'O' then
    redis.call('HSETNX', P .. 'rt:room:' .. ARGV[i + 1], 'owner', ARGV[i + 2])
    rooms[ARGV[i + 1]] = true
    i = i + 3
  elseif op == 'S' then
    local k = P .. 'rt:room:' .. ARGV[i + 1]
    if ARGV[i + 2] == '' then redis.call('HDEL', k, 'stream') else redis.call('HSET', k, 'stream', ARGV[i + 2]) end
    redis.call('HSET', k, 'streamSeq', ARGV[i + 3])
    redis.call('DEL', k .. ':gifts')
    rooms[ARGV[i + 1]] = true
    i = i + 4
  elseif op == 'E' then
    local k = P .. 'rt:room:' .. ARGV[i + 1]
    local seq = tonumber(ARGV[i + 2])
    addOnce(k .. ':history', seq, ARGV[i + 3])
    if ARGV[i + 4] ~= '' then redis.call('HSETNX', k .. ':gifts', ARGV[i + 4], seq) end
    raise(k, 'seq', seq)
    rooms[ARGV[i + 1]] = true
    i = i + 5
  elseif op == 'R' then
    local k = P .. 'rt:room:' .. ARGV[i + 1] .. ':history'
    local seq = tonumber(ARGV[i + 2])
    if redis.call('ZCOUNT', k, seq, seq) > 0 then
      redis.call('ZREMRANGEBYSCORE', k, seq, seq)
      redis.call('ZADD', k, seq, ARGV[i + 3])
    end
    i = i + 4
  elseif op == 'P' then
    redis.call('ZREMRANGEBYSCORE', P .. 'rt:room:' .. ARGV[i + 1] .. ':history', '-inf', '(' .. ARGV[i + 2])
    i = i + 3
  elseif op == 'A' then
    raise(P .. 'rt:room:' .. ARGV[i + 1], 'applied', tonumber(ARGV[i + 2]))
    rooms[ARGV[i + 1]] = true
    i = i + 3
  elseif op == 'G' then
    local k = P .. 'rt:room:' .. ARGV[i + 1] .. ':games'
    local cur = redis.call('HGET', k, ARGV[i + 2])
    local rev = tonumber(ARGV[i + 3])
    if (not cur) or rev > tonumber(redis.call('HGET', k, ARGV[i + 2] .. ':rev') or '-1') then
      redis.call('HSET', k, ARGV[i + 2], ARGV[i + 4], ARGV[i + 2] .. ':rev', rev)
    end
    rooms[ARGV[i + 1]] = true
    i = i + 5
  elseif op == 'N' then
    if redis.call('HSETNX', P .. 'rt:notify', ARGV[i + 1], ARGV[i + 3]) == 1 then
      redis.call('ZADD', P .. 'rt:notify:at', tonumber(ARGV[i + 2]), ARGV[i + 1])
    end
    i = i + 4
  elseif op == 'I' then
    local k = P .. 'rt:inbox:' .. ARGV[i + 1]
    local seq = tonumber(ARGV[i + 2])
    addOnce(k .. ':msgs', seq, ARGV[i + 3])
    raise(k, 'lastSeq', seq)
    users[ARGV[i + 1]] = true
    i = i + 4
  elseif op == 'K' then
    local k = P .. 'rt:inbox:' .. ARGV[i + 1]
    local last = tonumber(redis.call('HGET', k, 'lastSeq') or '0')
    local upTo = math.min(tonumber(ARGV[i + 2]), last)
    raise(k, 'ackedSeq', upTo)
    redis.call('ZREMRANGEBYSCORE', k .. ':msgs', '-inf', upTo)
    users[ARGV[i + 1]] = true
    i = i + 3
  elseif op == 'U' then
    raise(P .. 'rt:inbox:' .. ARGV[i + 1], 'applied', tonumber(ARGV[i + 2]))
    users[ARGV[i + 1]] = true
    i = i + 3
  else
    return redis.error_reply('unknown op ' .. tostring(op))
  end
end
for room in pairs(rooms) do
  local k = P .. 'rt:room:' .. room
  redis.call('PEXPIRE', k, roomTtl)
  redis.call('PEXPIRE', k .. ':history', roomTtl)
  redis.call('PEXPIRE', k .. ':gifts', roomTtl)
  redis.call('PEXPIRE', k .. ':games', roomTtl)
end
for user in pairs(users) do
  local k = P .. 'rt:inbox:' .. user
  redis.call('PEXPIRE', k, inboxTtl)
  redis.call('PEXPIRE', k .. ':msgs', inboxTtl)
end
return 1
`;

export interface RedisStoreOptions {
  readonly prefix?: string;
  /** Idle room state expires after this long (default 7 days). */
  readonly roomTtlMs?: number;
  /** An untouched inbox expires after this long (default 30 days). */
  readonly inboxTtlMs?: number;
}

type Client = Redis & { hbCommit(...args: (string | Buffer | number)[]): Promise<number> };

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
    redis.defineCommand('hbCommit', { numberOfKeys: 0, lua: COMMIT });
    return new RedisRealtimeStore(redis as Client, options);
  }

  async loadRoom(room: string, historyLimit: number): Promise<RoomSnapshot> {
    const k = `${this.prefix}rt:room:${room}`;
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
    const k = `${this.prefix}rt:inbox:${user}`;
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
    const args: (string | Buffer | number)[] = [this.prefix, this.roomTtlMs, this.inboxTtlMs];
    // The same order the SQLite store applies a batch in.
    for (const o of batch.roomOwners) args.push('O', o.room, o.owner);
    for (const s of batch.roomStreams) args.push('S', s.room, s.stream ?? '', s.startSeq);
    for (const e of batch.roomEvents) args.push('E', e.room, e.seq, Buffer.from(encode([e.seq, e.frame])), e.opId ?? '');
    for (const r of batch.roomRedactions) args.push('R', r.room, r.seq, Buffer.from(encode([r.seq, r.frame])));
    for (const p of batch.roomPrunes) args.push('P', p.room, p.belowSeq);
    for (const a of batch.roomApplied) args.push('A', a.room, a.position);
    for (const g of batch.roomState) args.push('G', g.room, g.key, g.rev, g.state ?? '');
    for (const n of batch.notify) args.push('N', n.id, n.at, Buffer.from(encode([n.user, n.kind, n.data, n.at])));
    for (const m of batch.inbox) args.push('I', m.user, m.seq, Buffer.from(encode([m.seq, m.ts, m.from, m.text])));
    for (const a of batch.inboxAcks) args.push('K', a.user, a.upTo);
    for (const a of batch.inboxApplied) args.push('U', a.user, a.position);
    if (args.length > 3) await this.redis.hbCommit(...args);
  }

  async roomEvent(room: string, seq: number): Promise<{ seq: number; frame: Uint8Array } | null> {
    const [member] = await this.redis.zrangebyscoreBuffer(`${this.prefix}rt:room:${room}:history`, seq, seq);
    if (!member) return null;
    const [at, frame] = decode(member) as [number, Uint8Array];
    return { seq: at, frame: new Uint8Array(frame) };
  }

  async pendingNotifications(limit: number): Promise<OutboxNotification[]> {
    const ids = await this.redis.zrange(`${this.prefix}rt:notify:at`, '0', String(limit - 1));
    if (ids.length === 0) return [];
    const values = await this.redis.hmgetBuffer(`${this.prefix}rt:notify`, ...ids);
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
    await this.redis.multi().zrem(`${this.prefix}rt:notify:at`, ...ids).hdel(`${this.prefix}rt:notify`, ...ids).exec();
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const roomMessages: unknown[] = [];
    for (const key of await this.keys('rt:room:*:history')) {
      const room = key.slice(`${this.prefix}rt:room:`.length, -':history'.length);
      for (const m of await this.redis.zrangeBuffer(key, '0', '-1')) {
        const [seq, frame] = decode(m) as [number, Uint8Array];
        const f = decode(frame) as unknown[];
        // Sequenced room events name who sent them at index 4 (docs/protocol.md).
        if (f[4] === user) roomMessages.push({ room, seq, ts: f[3], frame: f });
      }
    }
    const received = (await this.redis.zrangeBuffer(`${this.prefix}rt:inbox:${user}:msgs`, '0', '-1')).map((m) => {
      const [seq, ts, from, text] = decode(m) as [number, number, string, string];
      return { from, seq, ts, text };
    });
    const sent: unknown[] = [];
    for (const key of await this.keys('rt:inbox:*:msgs')) {
      const to = key.slice(`${this.prefix}rt:inbox:`.length, -':msgs'.length);
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
        const name = room.slice(0, -':history'.length);
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
    const inbox = `${this.prefix}rt:inbox:${e.user}`;
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
    const notify = `${this.prefix}rt:notify`;
    for (const [nid, raw] of Object.entries(await this.redis.hgetallBuffer(notify))) {
      if (!raw.includes(id)) continue;
      const [user, kind, data, at] = decode(raw) as [string, string, Record<string, unknown>, number];
      if (user === e.user) await this.redis.multi().hdel(notify, nid).zrem(`${notify}:at`, nid).exec();
      else await this.redis.hset(notify, nid, Buffer.from(encode([user, kind, scrub(data, e), at])));
      bump('notify_outbox');
    }
    return counts;
  }

  /** Every key under the prefix matching `pattern` (SCAN, so Redis is never blocked). */
  private async keys(pattern: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}${pattern}`, 'COUNT', 500);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  }

  async close(): Promise<void> {
    if (this.redis.status !== 'end') await this.redis.quit();
  }
}
