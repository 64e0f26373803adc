import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteConsentStore } from './consent-store-sqlite';
import { consentStoreConformance } from './consent-store.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-consent-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
consentStoreConformance(t, 'sqlite', async () => new SqliteConsentStore(join(dir, `c-${n++}.sqlite`)));
