/**
 * The one way this project opens a Redis connection (ioredis): connect now, not lazily on first use, and
 * prove the server answers, so a configured Redis that is down fails at start rather than on a hot path.
 *
 * `redis://host:port` (or `rediss://`) is one Redis; `redis-cluster://host:port[,host:port…]` is a Redis
 * Cluster, named by some of its masters (ioredis learns the rest and follows slot moves). Code that must
 * run on both keeps every multi-key command (a transaction, a script, a pipeline) within one hash tag:
 * each store's key layout says which.
 */
import Redis, { Cluster } from 'ioredis';

export type RedisClient = Redis | Cluster;

export function isRedisClusterUrl(url: string): boolean {
  return url.startsWith('redis-cluster://');
}

/** The seeds of a `redis-cluster://` URL. */
export function clusterSeeds(url: string): { host: string; port: number }[] {
  return url.slice('redis-cluster://'.length).split(',').map((hp) => {
    const m = /^([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(hp.trim());
    if (!m) throw new Error(`redis-cluster:// wants host:port[,host:port…], got "${hp}"`);
    return { host: m[1]!, port: Number(m[2]) };
  });
}

export async function openRedis(url: string): Promise<RedisClient> {
  if (isRedisClusterUrl(url)) {
    const cluster = new Cluster(clusterSeeds(url), {
      lazyConnect: true,
      // Commands issued in one tick go to each master in one write: a commit spread over many hash tags
      // costs a round trip per master, not per tag.
      enableAutoPipelining: true,
      redisOptions: { maxRetriesPerRequest: 3, connectTimeout: 5000 },
    });
    await cluster.connect();
    await cluster.ping();
    return cluster;
  }
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 5000 });
  await redis.connect();
  await redis.ping();
  return redis;
}

/** Every key matching `pattern`, by SCAN (never KEYS: Redis is not blocked), on every master of a cluster. */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const out: string[] = [];
  const servers: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, batch] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
  }
  return out;
}

/** A second connection like this one (a subscriber cannot send other commands). */
export function duplicateRedis(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

/** Closes the connection unless it is already closed. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status !== 'end') await client.quit();
}
