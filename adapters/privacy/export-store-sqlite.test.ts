import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteExportStore } from './export-store-sqlite';
import { exportStoreConformance } from './export-store.conformance';

exportStoreConformance(t, 'sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-export-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return async () => new SqliteExportStore(dir);
}, { shared: false });
