import t from 'tap';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SqliteLedger } from './ledger-sqlite';
import { ledgerConformance } from './ledger.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-ledger-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
ledgerConformance(t, 'sqlite', { open: async () => new SqliteLedger(join(dir, `ledger-${n++}.sqlite`)) });
