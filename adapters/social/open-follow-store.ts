/**
 * Which FollowStore a process opens, decided in one place for the API and the actor workers (followers-only
 * chat asks it): MongoDB when MONGODB_URL is set, else the node's data/social.sqlite.
 */
import { join } from 'node:path';
import type { Config } from '../../config/config';
import type { FollowStore } from './follow-store';
import { SqliteFollowStore } from './follow-store-sqlite';
import { MongoFollowStore } from './follow-store-mongo';

export type FollowStoreSettings = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'mongodb'; readonly url: string };

export function followStoreSettings(config: Pick<Config, 'engines' | 'dataDir'>): FollowStoreSettings {
  return config.engines.mongodbUrl ? { kind: 'mongodb', url: config.engines.mongodbUrl } : { kind: 'sqlite', file: join(config.dataDir, 'social.sqlite') };
}

export function openFollowStore(s: FollowStoreSettings): Promise<FollowStore> {
  return s.kind === 'sqlite' ? Promise.resolve(new SqliteFollowStore(s.file)) : MongoFollowStore.connect(s.url);
}
