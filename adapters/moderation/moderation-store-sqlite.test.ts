import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteModerationStore } from './moderation-store-sqlite';
import { moderationStoreConformance } from './moderation-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-moderation-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
moderationStoreConformance(t, 'sqlite', async () => new SqliteModerationStore(join(dir, `m-${n++}.sqlite`)));
