import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFollowStore } from './follow-store-sqlite';
import { followStoreConformance } from './follow-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-follows-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
followStoreConformance(t, 'sqlite', async () => new SqliteFollowStore(join(dir, `follows-${n++}.sqlite`)));
