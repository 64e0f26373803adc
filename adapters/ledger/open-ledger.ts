/**
 * Chooses the ledger engine: MongoDB when a URL is configured (and then it must connect: no silent
 * fallback), the embedded SQLite file otherwise.
 */
import { join } from 'node:path';
import type { Ledger } from './ledger';
import { MongoLedger } from './ledger-mongo';
import { SqliteLedger } from './ledger-sqlite';

export interface LedgerSettings {
  readonly mongodbUrl: string | null;
  readonly dataDir: string;
  readonly leaseMs: number;
  /** Cluster: tags this process's operations with its node (see MongoLedgerOptions.ownerTag). */
  readonly ownerTag?: string;
}

export async function openLedger(s: LedgerSettings): Promise<Ledger> {
  if (s.mongodbUrl) return MongoLedger.connect({ url: s.mongodbUrl, leaseMs: s.leaseMs, ...(s.ownerTag ? { ownerTag: s.ownerTag } : {}) });
  return new SqliteLedger(join(s.dataDir, 'ledger.sqlite'));
}

export function ledgerEngineName(s: LedgerSettings): string {
  return s.mongodbUrl ? 'mongodb' : 'sqlite';
}
