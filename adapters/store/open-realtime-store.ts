/**
 * Which RealtimeStore a process uses, decided in one place for the actor workers and the API alike: the
 * node's SQLite file, or (cluster) Redis shared by every node. A room owner the API records must land
 * where the room actors read it.
 */
import { join } from 'node:path';
import type { Config } from '../../config/config';
import type { RealtimeStore } from './realtime-store';
import { SqliteRealtimeStore } from './realtime-store-sqlite';
import { RedisRealtimeStore } from './realtime-store-redis';

export type StoreSettings = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'redis'; readonly url: string; readonly prefix: string };

export function realtimeStoreSettings(config: Pick<Config, 'cluster' | 'engines' | 'dataDir'>): StoreSettings {
  return config.cluster
    ? { kind: 'redis', url: config.engines.redisUrl!, prefix: `${config.cluster.topicPrefix}:` }
    : { kind: 'sqlite', file: join(config.dataDir, 'realtime.sqlite') };
}

export function openRealtimeStore(s: StoreSettings): Promise<RealtimeStore> {
  return s.kind === 'sqlite' ? Promise.resolve(new SqliteRealtimeStore(s.file)) : RedisRealtimeStore.connect(s.url, { prefix: s.prefix });
}
