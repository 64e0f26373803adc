/** The account store the configuration names: MongoDB when a URL is given (API processes share it), else the embedded SQLite file. */
import { join } from 'node:path';
import type { AccountStore } from './account-store';
import { MongoAccountStore } from './account-store-mongo';
import { SqliteAccountStore } from './account-store-sqlite';

export function openAccountStore(settings: { mongodbUrl: string | null; dataDir: string }): Promise<AccountStore> {
  return settings.mongodbUrl ? MongoAccountStore.connect(settings.mongodbUrl) : Promise.resolve(new SqliteAccountStore(join(settings.dataDir, 'accounts.sqlite')));
}
