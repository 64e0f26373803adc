import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteNotificationStore } from './notification-store-sqlite';
import { notificationStoreConformance } from './notification-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-notes-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
notificationStoreConformance(t, 'sqlite', async () => new SqliteNotificationStore(join(dir, `n-${n++}.sqlite`)));
