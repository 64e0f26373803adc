import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePayoutStore } from './payout-store-sqlite';
import { payoutStoreConformance } from './payout-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-payouts-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
payoutStoreConformance(t, 'sqlite', async () => new SqlitePayoutStore(join(dir, `payouts-${n++}.sqlite`)));
