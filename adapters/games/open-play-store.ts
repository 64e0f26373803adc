/** Where the PlayStore lives: MongoDB when configured (every node and API process shares it), else the data folder's games.sqlite. */
import type { PlayStore } from './play-store';
import { MongoPlayStore } from './play-store-mongo';
import { SqlitePlayStore } from './play-store-sqlite';

/** Plain data, so it can travel to a worker thread. */
export type PlayStoreSettings = { readonly kind: 'mongodb'; readonly url: string } | { readonly kind: 'sqlite'; readonly file: string };

export function playStoreSettings(config: { engines: { mongodbUrl: string | null }; dataDir: string }): PlayStoreSettings {
  return config.engines.mongodbUrl ? { kind: 'mongodb', url: config.engines.mongodbUrl } : { kind: 'sqlite', file: `${config.dataDir}/games.sqlite` };
}

export function openPlayStore(s: PlayStoreSettings): Promise<PlayStore> {
  return s.kind === 'mongodb' ? MongoPlayStore.connect(s.url) : Promise.resolve(new SqlitePlayStore(s.file));
}
