import t from 'tap';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SqliteRealtimeStore } from './realtime-store-sqlite';
import { realtimeStoreConformance } from './realtime-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-store-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// One file for the whole suite, reopened per test: the conformance suite proves durability across opens.
realtimeStoreConformance(t, 'sqlite', async () => new SqliteRealtimeStore(join(dir, 'store.sqlite')));
