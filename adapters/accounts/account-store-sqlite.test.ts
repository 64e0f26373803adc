import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAccountStore } from './account-store-sqlite';
import { accountStoreConformance } from './account-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-accounts-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
accountStoreConformance(t, 'sqlite', async () => new SqliteAccountStore(join(dir, `accounts-${n++}.sqlite`)));
