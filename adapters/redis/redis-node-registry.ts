/**
 * The NodeRegistry on Redis (ioredis). What the nodes of a cluster share there, apart from room state:
 * - node numbers: each start takes the next number (INCR), which prefixes its connection ids;
 * - liveness: every node writes a heartbeat into one sorted set; a node silent for the TTL is dead, and
 *   every other node forgets its connections (PURGE_NODE) so no ghost viewers remain;
 * - presence: per node a hash user → open connections (MessagePack), rewritten each beat with a TTL of the
 *   node TTL, so a dead node's users go offline on their own; `whereIs` answers from the live hashes;
 * - per-user chat limits across nodes: a token bucket in a Lua script, same semantics as the local one.
 *
 * Keys: `{<prefix>:nodes}` and its `:ids`, `:seq` and `:online:<node>` share one hash tag, so a heartbeat is one transaction on Redis Cluster too (a few writes per node per
 * second: one slot is plenty); each user's chat bucket `<prefix>:rl:chat:{<user>}` has a tag of its own, so the
 * buckets spread over the cluster.
 */
import { Cluster } from 'ioredis';
import { closeRedis, openRedis, type RedisClient } from './open-redis';
import { decodeInternal as decode, encodeInternal as encode } from '../../common/internal-codec';
import type { NodeLocation, NodeRegistry } from '../registry/node-registry';

const TAKE = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local out = {}
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(state[1] or burst)
  local ts = tonumber(state[2] or now)
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
  if tokens >= 1 then
    tokens = tokens - 1
    out[i] = 1
  else
    out[i] = 0
  end
  redis.call('HSET', key, 't', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return out
`;

type Client = RedisClient & {
  hbTake(keys: number, ...args: (string | number)[]): Promise<number[]>;
  /** The same script with its one key declared, which auto-pipelining on a cluster routes by. */
  hbTakeOne(key: string, ...args: (string | number)[]): Promise<number[]>;
};

export class RedisNodeRegistry implements NodeRegistry {
  private readonly nodes: string;
  /** Per node beating through this registry: the presence last written, and when. */
  private readonly written = new Map<number, { at: number; users: ReadonlyMap<string, number> }>();

  private constructor(private readonly redis: Client, private readonly prefix: string, private readonly ttlMs: number) {
    this.nodes = `{${prefix}:nodes}`;
  }

  static async connect(url: string, prefix: string, ttlMs: number): Promise<RedisNodeRegistry> {
    const redis = await openRedis(url);
    redis.defineCommand('hbTake', { lua: TAKE });
    redis.defineCommand('hbTakeOne', { numberOfKeys: 1, lua: TAKE });
    return new RedisNodeRegistry(redis as Client, prefix, ttlMs);
  }

  /** A number no other start of any node has had (1, 2, ...). */
  async allocateNodeNumber(): Promise<number> {
    return this.redis.incr(`${this.nodes}:seq`);
  }

  /** Marks `node` alive and publishes who is connected to it. */
  async beat(node: number, nodeId: string, users: ReadonlyMap<string, number>, now = Date.now()): Promise<void> {
    const key = `${this.nodes}:online:${node}`;
    const tx = this.redis.multi()
      .zadd(this.nodes, now, String(node))
      .hset(`${this.nodes}:ids`, String(node), nodeId);
    // Presence: only what changed since the last beat (a node beats several times a second and may hold
    // tens of thousands of users), the whole hash when the last write is not known to be there.
    const last = this.written.get(node);
    const whole = !last || now - last.at > this.ttlMs / 2;
    if (whole) tx.del(key);
    const changed: (string | Buffer)[] = [];
    for (const [u, n] of users) if (whole || last.users.get(u) !== n) changed.push(u, Buffer.from(encode(n)));
    const gone = whole ? [] : [...last.users.keys()].filter((u) => !users.has(u));
    if (gone.length > 0) tx.hdel(key, ...gone);
    if (changed.length > 0) tx.hset(key, ...changed);
    if (users.size > 0) tx.pexpire(key, this.ttlMs);
    // Forget nodes dead for an hour: every live node has purged them long before.
    tx.zremrangebyscore(this.nodes, '-inf', String(now - 3_600_000));
    this.written.delete(node);
    const failed = (await tx.exec())?.find(([err]) => err)?.[0];
    if (failed) throw failed;
    this.written.set(node, { at: now, users: new Map(users) });
  }

  /** Nodes whose last heartbeat is older than the TTL. */
  async deadNodes(now = Date.now()): Promise<number[]> {
    return (await this.redis.zrangebyscore(this.nodes, '-inf', String(now - this.ttlMs))).map(Number);
  }

  async liveNodes(now = Date.now()): Promise<number[]> {
    return (await this.redis.zrangebyscore(this.nodes, `(${now - this.ttlMs}`, '+inf')).map(Number).sort((a, b) => a - b);
  }

  /** Marks this node dead at once (a clean shutdown), so the others purge without waiting for the TTL. */
  async leave(node: number): Promise<void> {
    this.written.delete(node);
    await this.redis.multi().zadd(this.nodes, 0, String(node)).del(`${this.nodes}:online:${node}`).exec();
  }

  /** Live nodes where `user` has connections, with their node ids and connection counts. */
  async whereIs(user: string, now = Date.now()): Promise<NodeLocation[]> {
    const live = await this.redis.zrangebyscore(this.nodes, String(now - this.ttlMs), '+inf');
    if (live.length === 0) return [];
    const tx = this.redis.pipeline();
    for (const n of live) tx.hgetBuffer(`${this.nodes}:online:${n}`, user).hget(`${this.nodes}:ids`, n);
    const replies = (await tx.exec())!.map(([, v]) => v);
    return live.flatMap((n, i) => {
      const count = replies[2 * i] as Buffer | null;
      return count ? [{ node: Number(n), nodeId: (replies[2 * i + 1] as string | null) ?? n, connections: decode(count) as number }] : [];
    });
  }

  /** One token from each user's cluster-wide chat bucket; true where granted. */
  async takeChat(users: readonly string[], perSecond: number, burst: number, now = Date.now()): Promise<boolean[]> {
    if (users.length === 0) return [];
    const keys = users.map((u) => `${this.prefix}:rl:chat:{${u}}`);
    if (this.redis instanceof Cluster) {
      // A script's keys must share a slot: one call per user (in order per master, so a user's two chats
      // in one batch take two tokens in turn).
      const out = await Promise.all(keys.map((k) => this.redis.hbTakeOne(k, now, perSecond, burst)));
      return out.map((v) => v[0] === 1);
    }
    const out = await this.redis.hbTake(keys.length, ...keys, now, perSecond, burst);
    return out.map((v) => v === 1);
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}
