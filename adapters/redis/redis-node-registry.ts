/**
 * The NodeRegistry on Redis (ioredis). What the nodes of a cluster share there, apart from room state:
 * - node numbers: each start takes the next number (INCR), which prefixes its connection ids;
 * - liveness: every node writes a heartbeat into one sorted set; a node silent for the TTL is dead, and
 *   every other node forgets its connections (PURGE_NODE) so no ghost viewers remain;
 * - presence: per node a hash user → open connections (MessagePack), rewritten each beat with a TTL of the
 *   node TTL, so a dead node's users go offline on their own; `whereIs` answers from the live hashes;
 * - per-user chat limits across nodes: a token bucket in a Lua script, same semantics as the local one.
 */
import type Redis from 'ioredis';
import { openRedis } from './open-redis';
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

type Client = Redis & { hbTake(keys: number, ...args: (string | number)[]): Promise<number[]> };

export class RedisNodeRegistry implements NodeRegistry {
  private constructor(private readonly redis: Client, private readonly prefix: string, private readonly ttlMs: number) {}

  static async connect(url: string, prefix: string, ttlMs: number): Promise<RedisNodeRegistry> {
    const redis = await openRedis(url);
    redis.defineCommand('hbTake', { lua: TAKE });
    return new RedisNodeRegistry(redis as Client, prefix, ttlMs);
  }

  /** A number no other start of any node has had (1, 2, ...). */
  async allocateNodeNumber(): Promise<number> {
    return this.redis.incr(`${this.prefix}:node-seq`);
  }

  /** Marks `node` alive and publishes who is connected to it. */
  async beat(node: number, nodeId: string, users: ReadonlyMap<string, number>, now = Date.now()): Promise<void> {
    const key = `${this.prefix}:online:${node}`;
    const tx = this.redis.multi()
      .zadd(`${this.prefix}:nodes`, now, String(node))
      .hset(`${this.prefix}:node-ids`, String(node), nodeId)
      .del(key);
    if (users.size > 0) tx.hset(key, ...[...users].flatMap(([u, n]) => [u, Buffer.from(encode(n))])).pexpire(key, this.ttlMs);
    // Forget nodes dead for an hour: every live node has purged them long before.
    tx.zremrangebyscore(`${this.prefix}:nodes`, '-inf', String(now - 3_600_000));
    await tx.exec();
  }

  /** Nodes whose last heartbeat is older than the TTL. */
  async deadNodes(now = Date.now()): Promise<number[]> {
    return (await this.redis.zrangebyscore(`${this.prefix}:nodes`, '-inf', String(now - this.ttlMs))).map(Number);
  }

  async liveNodes(now = Date.now()): Promise<number[]> {
    return (await this.redis.zrangebyscore(`${this.prefix}:nodes`, `(${now - this.ttlMs}`, '+inf')).map(Number).sort((a, b) => a - b);
  }

  /** Marks this node dead at once (a clean shutdown), so the others purge without waiting for the TTL. */
  async leave(node: number): Promise<void> {
    await this.redis.multi().zadd(`${this.prefix}:nodes`, 0, String(node)).del(`${this.prefix}:online:${node}`).exec();
  }

  /** Live nodes where `user` has connections, with their node ids and connection counts. */
  async whereIs(user: string, now = Date.now()): Promise<NodeLocation[]> {
    const live = await this.redis.zrangebyscore(`${this.prefix}:nodes`, String(now - this.ttlMs), '+inf');
    if (live.length === 0) return [];
    const tx = this.redis.pipeline();
    for (const n of live) tx.hgetBuffer(`${this.prefix}:online:${n}`, user).hget(`${this.prefix}:node-ids`, n);
    const replies = (await tx.exec())!.map(([, v]) => v);
    return live.flatMap((n, i) => {
      const count = replies[2 * i] as Buffer | null;
      return count ? [{ node: Number(n), nodeId: (replies[2 * i + 1] as string | null) ?? n, connections: decode(count) as number }] : [];
    });
  }

  /** One token from each user's cluster-wide chat bucket; true where granted. */
  async takeChat(users: readonly string[], perSecond: number, burst: number, now = Date.now()): Promise<boolean[]> {
    if (users.length === 0) return [];
    const keys = users.map((u) => `${this.prefix}:rl:chat:${u}`);
    const out = await this.redis.hbTake(keys.length, ...keys, now, perSecond, burst);
    return out.map((v) => v === 1);
  }

  async close(): Promise<void> {
    if (this.redis.status !== 'end') await this.redis.quit();
  }
}
