import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePurchaseStore } from './purchase-store-sqlite';
import { purchaseStoreConformance } from './purchase-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-purchases-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
purchaseStoreConformance(t, 'sqlite', async () => new SqlitePurchaseStore(join(dir, `purchases-${n++}.sqlite`)));
