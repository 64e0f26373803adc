/**
 * The one way this project opens a Redis connection (ioredis): connect now, not lazily on first use, and
 * prove the server answers, so a configured Redis that is down fails at start rather than on a hot path.
 */
import Redis from 'ioredis';

export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 5000 });
  await redis.connect();
  await redis.ping();
  return redis;
}
