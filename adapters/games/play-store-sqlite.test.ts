import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePlayStore } from './play-store-sqlite';
import { playStoreConformance } from './play-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-play-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
playStoreConformance(t, 'sqlite', async () => new SqlitePlayStore(join(dir, `games-${n++}.sqlite`)));
