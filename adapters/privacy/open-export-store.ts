/** Chooses where export jobs and archives live: MongoDB when configured (shared by every API process), else the data folder. */
import type { ExportStore } from './export-store';
import { MongoExportStore } from './export-store-mongo';
import { SqliteExportStore } from './export-store-sqlite';

export function openExportStore(s: { mongodbUrl: string | null; dataDir: string }): Promise<ExportStore> {
  return s.mongodbUrl ? MongoExportStore.connect(s.mongodbUrl) : Promise.resolve(new SqliteExportStore(s.dataDir));
}
