/** PayoutStore on the embedded SQLite file (data/payouts.sqlite, FULL durability). One open withdrawal per user is a unique partial index. */
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { OPEN_WITHDRAWAL, type PayoutAccount, type PayoutStore, type Withdrawal, type WithdrawalStatus } from './payout-store';

const OPEN_SQL = OPEN_WITHDRAWAL.map((s) => `'${s}'`).join(', ');
const SCHEMA = `
CREATE TABLE IF NOT EXISTS payout_accounts (user TEXT PRIMARY KEY, stripe_account TEXT NOT NULL UNIQUE, details_submitted INTEGER NOT NULL,
  payouts_enabled INTEGER NOT NULL, requirements_due TEXT NOT NULL, disabled_reason TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS withdrawals (id TEXT PRIMARY KEY, user TEXT NOT NULL, request_id TEXT NOT NULL, coins INTEGER NOT NULL, currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL, rate_date TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', transfer TEXT NOT NULL DEFAULT '',
  payout TEXT NOT NULL DEFAULT '', decided_by TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS withdrawals_one_open ON withdrawals (user) WHERE status IN (${OPEN_SQL});
CREATE INDEX IF NOT EXISTS withdrawals_user ON withdrawals (user, created_at);
CREATE INDEX IF NOT EXISTS withdrawals_status ON withdrawals (status, created_at);
CREATE TABLE IF NOT EXISTS payout_events (provider TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL,
  handled_at INTEGER NOT NULL, PRIMARY KEY (provider, event_id)) WITHOUT ROWID;
`;

interface AccountRow { user: string; stripe_account: string; details_submitted: number; payouts_enabled: number; requirements_due: string; disabled_reason: string; updated_at: number }
interface WithdrawalRow { id: string; user: string; request_id: string; coins: number; currency: string; amount_minor: number; rate_date: string; status: WithdrawalStatus; reason: string; transfer: string; payout: string; decided_by: string; created_at: number; updated_at: number }

const toAccount = (r: AccountRow): PayoutAccount => ({
  user: r.user, stripeAccount: r.stripe_account, detailsSubmitted: r.details_submitted === 1, payoutsEnabled: r.payouts_enabled === 1,
  requirementsDue: JSON.parse(r.requirements_due) as string[], disabledReason: r.disabled_reason, updatedAt: r.updated_at,
});
const toWithdrawal = (r: WithdrawalRow): Withdrawal => ({
  id: r.id, user: r.user, requestId: r.request_id, coins: r.coins, currency: r.currency, amountMinor: r.amount_minor, rateDate: r.rate_date, status: r.status, reason: r.reason,
  transfer: r.transfer, payout: r.payout, decidedBy: r.decided_by, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Payouts are income paid out and reported for tax: erasure pseudonymises the creator (the Stripe account keeps its own records). */
const PERSONAL = [
  { table: 'payout_accounts', section: 'payout_account', owner: ['user'], erase: 'pseudonymise' },
  { table: 'withdrawals', section: 'withdrawals', owner: ['user', 'decided_by'], erase: 'pseudonymise' },
] as const;

export class SqlitePayoutStore implements PayoutStore {
  private readonly personal: PersonalData;
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = openSqlite(file, 'FULL');
    this.personal = sqlitePersonalData(this.db, PERSONAL);
    this.db.exec(SCHEMA);
    // Added after the first release of this table: the client's op id of each request.
    if (!(this.db.prepare('PRAGMA table_info(withdrawals)').all() as { name: string }[]).some((c) => c.name === 'request_id')) {
      this.db.exec("ALTER TABLE withdrawals ADD COLUMN request_id TEXT NOT NULL DEFAULT ''");
    }
    this.db.exec("CREATE UNIQUE INDEX IF NOT EXISTS withdrawals_request ON withdrawals (user, request_id) WHERE request_id != ''");
  }

  async account(user: string): Promise<PayoutAccount | null> {
    const r = this.db.prepare('SELECT * FROM payout_accounts WHERE user = ?').get(user) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  }

  async accountByStripe(stripeAccount: string): Promise<PayoutAccount | null> {
    const r = this.db.prepare('SELECT * FROM payout_accounts WHERE stripe_account = ?').get(stripeAccount) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  }

  async saveAccount(a: PayoutAccount): Promise<void> {
    this.db.prepare(`INSERT INTO payout_accounts (user, stripe_account, details_submitted, payouts_enabled, requirements_due, disabled_reason, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user) DO UPDATE SET stripe_account = excluded.stripe_account, details_submitted = excluded.details_submitted,
      payouts_enabled = excluded.payouts_enabled, requirements_due = excluded.requirements_due, disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at`)
      .run(a.user, a.stripeAccount, a.detailsSubmitted ? 1 : 0, a.payoutsEnabled ? 1 : 0, JSON.stringify(a.requirementsDue), a.disabledReason, a.updatedAt);
  }

  async payoutUsers(): Promise<string[]> {
    return (this.db.prepare('SELECT user FROM payout_accounts ORDER BY user').all() as { user: string }[]).map((r) => r.user);
  }

  async createWithdrawal(w: Withdrawal): Promise<boolean> {
    try {
      this.db.prepare(`INSERT INTO withdrawals (id, user, request_id, coins, currency, amount_minor, rate_date, status, reason, transfer, payout, decided_by, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(w.id, w.user, w.requestId, w.coins, w.currency, w.amountMinor, w.rateDate, w.status, w.reason, w.transfer, w.payout, w.decidedBy, w.createdAt, w.updatedAt);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }

  async withdrawal(id: string): Promise<Withdrawal | null> {
    const r = this.db.prepare('SELECT * FROM withdrawals WHERE id = ?').get(id) as WithdrawalRow | undefined;
    return r ? toWithdrawal(r) : null;
  }

  async updateWithdrawal(id: string, patch: Partial<Pick<Withdrawal, 'status' | 'reason' | 'transfer' | 'payout' | 'decidedBy'>>, now: number): Promise<void> {
    const cols = ['updated_at = @now'];
    if (patch.status !== undefined) cols.push('status = @status');
    if (patch.reason !== undefined) cols.push('reason = @reason');
    if (patch.transfer !== undefined) cols.push('transfer = @transfer');
    if (patch.payout !== undefined) cols.push('payout = @payout');
    if (patch.decidedBy !== undefined) cols.push('decided_by = @decidedBy');
    this.db.prepare(`UPDATE withdrawals SET ${cols.join(', ')} WHERE id = @id`).run({ id, now, status: patch.status ?? null, reason: patch.reason ?? null, transfer: patch.transfer ?? null, payout: patch.payout ?? null, decidedBy: patch.decidedBy ?? null });
  }

  async withdrawalByRequest(user: string, requestId: string): Promise<Withdrawal | null> {
    const r = this.db.prepare('SELECT * FROM withdrawals WHERE user = ? AND request_id = ?').get(user, requestId) as WithdrawalRow | undefined;
    return r ? toWithdrawal(r) : null;
  }

  async withdrawalsOf(user: string, limit: number): Promise<Withdrawal[]> {
    return (this.db.prepare('SELECT * FROM withdrawals WHERE user = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(user, limit) as WithdrawalRow[]).map(toWithdrawal);
  }

  async withdrawalsIn(statuses: readonly WithdrawalStatus[], limit: number): Promise<Withdrawal[]> {
    if (statuses.length === 0) return [];
    const list = statuses.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT * FROM withdrawals WHERE status IN (${list}) ORDER BY created_at, id LIMIT ?`).all(...statuses, limit) as WithdrawalRow[]).map(toWithdrawal);
  }

  async coinsSince(user: string, since: number): Promise<number> {
    return (this.db.prepare(`SELECT COALESCE(SUM(coins), 0) AS n FROM withdrawals WHERE user = ? AND created_at >= ? AND status NOT IN ('refused', 'rejected', 'failed', 'reversed')`)
      .get(user, since) as { n: number }).n;
  }

  async recordEvent(provider: string, eventId: string, type: string, outcome: string, now: number): Promise<boolean> {
    return this.db.prepare('INSERT OR IGNORE INTO payout_events (provider, event_id, type, outcome, handled_at) VALUES (?, ?, ?, ?, ?)').run(provider, eventId, type, outcome, now).changes === 1;
  }

  async hasEvent(provider: string, eventId: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM payout_events WHERE provider = ? AND event_id = ?').get(provider, eventId) !== undefined;
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
