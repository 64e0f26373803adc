/** PurchaseStore on the embedded SQLite file (data/purchases.sqlite), FULL durability: these are receipts. */
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import type { PurchaseChannel } from '../ledger/ledger';
import type { PurchasePage, PurchaseRecord, PurchaseStore } from './purchase-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS purchases (
  id TEXT PRIMARY KEY, user TEXT NOT NULL, channel TEXT NOT NULL, package_id TEXT NOT NULL, coins INTEGER NOT NULL,
  amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, base_amount_minor INTEGER NOT NULL, provider_ref TEXT,
  status TEXT NOT NULL, review TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  UNIQUE (channel, provider_ref));
CREATE INDEX IF NOT EXISTS purchases_user ON purchases (user, created_at, id);
CREATE TABLE IF NOT EXISTS provider_events (provider TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL,
  handled_at INTEGER NOT NULL, PRIMARY KEY (provider, event_id)) WITHOUT ROWID;
`;

interface Row {
  id: string; user: string; channel: PurchaseChannel; package_id: string; coins: number; amount_minor: number; currency: string;
  base_amount_minor: number; provider_ref: string | null; status: PurchaseRecord['status']; review: PurchaseRecord['review']; reason: string;
  created_at: number; updated_at: number; request_id: string | null;
}

const toRecord = (r: Row): PurchaseRecord => ({
  id: r.id, user: r.user, channel: r.channel, packageId: r.package_id, coins: r.coins, amountMinor: r.amount_minor, currency: r.currency,
  baseAmountMinor: r.base_amount_minor, providerRef: r.provider_ref, status: r.status, review: r.review, reason: r.reason, createdAt: r.created_at, updatedAt: r.updated_at,
  requestId: r.request_id,
});

/** Receipts are kept for the tax years a seller must keep them: erasure pseudonymises their buyer. */
const PERSONAL = [
  { table: 'purchases', section: 'purchases', owner: ['user'], erase: 'pseudonymise' },
] as const;

export class SqlitePurchaseStore implements PurchaseStore {
  private readonly personal: PersonalData;
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = openSqlite(file, 'FULL');
    this.personal = sqlitePersonalData(this.db, PERSONAL);
    this.db.exec(SCHEMA);
    // Added after the first release of this table: a client's op id for starting a purchase.
    if (!(this.db.prepare('PRAGMA table_info(purchases)').all() as { name: string }[]).some((c) => c.name === 'request_id')) {
      this.db.exec('ALTER TABLE purchases ADD COLUMN request_id TEXT');
    }
    this.db.exec('CREATE UNIQUE INDEX IF NOT EXISTS purchases_request ON purchases (user, request_id) WHERE request_id IS NOT NULL');
  }

  async create(p: PurchaseRecord): Promise<boolean> {
    return this.db.prepare(`INSERT OR IGNORE INTO purchases (id, user, channel, package_id, coins, amount_minor, currency, base_amount_minor, provider_ref, status, review, reason, created_at, updated_at, request_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(p.id, p.user, p.channel, p.packageId, p.coins, p.amountMinor, p.currency, p.baseAmountMinor,
      p.providerRef, p.status, p.review, p.reason, p.createdAt, p.updatedAt, p.requestId ?? null).changes === 1;
  }

  async byId(id: string): Promise<PurchaseRecord | null> {
    const r = this.db.prepare('SELECT * FROM purchases WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  async byRequest(user: string, requestId: string): Promise<PurchaseRecord | null> {
    const r = this.db.prepare('SELECT * FROM purchases WHERE user = ? AND request_id = ?').get(user, requestId) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  async byProviderRef(channel: PurchaseChannel, ref: string): Promise<PurchaseRecord | null> {
    const r = this.db.prepare('SELECT * FROM purchases WHERE channel = ? AND provider_ref = ?').get(channel, ref) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  async update(id: string, patch: Partial<Pick<PurchaseRecord, 'status' | 'providerRef' | 'review' | 'reason'>>, now: number): Promise<void> {
    const cols: string[] = ['updated_at = @now'];
    if (patch.status !== undefined) cols.push('status = @status');
    if (patch.providerRef !== undefined) cols.push('provider_ref = @providerRef');
    if (patch.review !== undefined) cols.push('review = @review');
    if (patch.reason !== undefined) cols.push('reason = @reason');
    this.db.prepare(`UPDATE purchases SET ${cols.join(', ')} WHERE id = @id`).run({ id, now, status: patch.status ?? null, providerRef: patch.providerRef ?? null, review: patch.review ?? null, reason: patch.reason ?? null });
  }

  async list(user: string, page: PurchasePage): Promise<PurchaseRecord[]> {
    const before = page.before ?? { createdAt: Number.MAX_SAFE_INTEGER, id: '' };
    const rows = this.db.prepare(`SELECT * FROM purchases WHERE user = ? AND (created_at < ? OR (created_at = ? AND id < ?))
      ORDER BY created_at DESC, id DESC LIMIT ?`).all(user, before.createdAt, before.createdAt, before.id, page.limit) as Row[];
    return rows.map(toRecord);
  }

  async hadReversal(user: string, since: number): Promise<boolean> {
    return this.db.prepare(`SELECT 1 FROM purchases WHERE user = ? AND status = 'reversed' AND updated_at >= ? LIMIT 1`).get(user, since) !== undefined;
  }

  async recordEvent(provider: string, eventId: string, type: string, outcome: string, now: number): Promise<boolean> {
    return this.db.prepare('INSERT OR IGNORE INTO provider_events (provider, event_id, type, outcome, handled_at) VALUES (?, ?, ?, ?, ?)')
      .run(provider, eventId, type, outcome, now).changes === 1;
  }

  async hasEvent(provider: string, eventId: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM provider_events WHERE provider = ? AND event_id = ?').get(provider, eventId) !== undefined;
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
