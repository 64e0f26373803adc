/**
 * Embedded Ledger on SQLite: each operation is one savepoint (check the op id, check every debit covers
 * itself, apply, record), so there is never a half-applied operation to recover. Several workers may open
 * the same file; SQLite serialises the writers.
 *
 * Group commit (adapters/sqlite/group-commit.ts): the operations applied during one event-loop turn share
 * one IMMEDIATE transaction, so one fsync (synchronous = FULL) makes all of them durable; each still
 * succeeds or fails on its own.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { GroupCommit } from '../sqlite/group-commit';
import { sqlitePersonalData, type Erasure, type ErasureCounts } from '../privacy/personal-data';
import {
  REFUNDABLE, fingerprint, isExternal, mayGoNegative, metaOf, postingsFor, totalsOf, uncoveredDebit, validateOp,
  type HistoryCursor, type Ledger, type LedgerEntry, type LedgerErrorCode, type LedgerOp, type LedgerResult, type LedgerTotals, type Posting,
} from './ledger';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_accounts (account TEXT PRIMARY KEY, balance INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_entries (
  op_id TEXT PRIMARY KEY, kind TEXT NOT NULL, fingerprint TEXT NOT NULL, postings TEXT NOT NULL, meta TEXT NOT NULL,
  ts INTEGER NOT NULL, room TEXT, stream TEXT, refund_of TEXT UNIQUE);
CREATE INDEX IF NOT EXISTS ledger_entries_stream ON ledger_entries (room, stream, ts);
CREATE TABLE IF NOT EXISTS ledger_rejections (op_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, code TEXT NOT NULL,
  message TEXT NOT NULL, ts INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_entry_accounts (account TEXT NOT NULL, ts INTEGER NOT NULL, op_id TEXT NOT NULL,
  PRIMARY KEY (account, ts, op_id)) WITHOUT ROWID;
`;

interface EntryRow { op_id: string; kind: LedgerOp['kind']; fingerprint: string; postings: string; meta: string; ts: number }

function toEntry(row: EntryRow): LedgerEntry {
  return { opId: row.op_id, kind: row.kind, postings: JSON.parse(row.postings) as Posting[], meta: JSON.parse(row.meta) as Record<string, string | number>, ts: row.ts };
}

export class SqliteLedger implements Ledger {
  private readonly db: Database.Database;
  private readonly s;
  private readonly commits: GroupCommit<LedgerOp, LedgerResult>;

  constructor(file: string) {
    // Money: fsync on every commit, so an acknowledged operation survives a power cut too.
    this.db = openSqlite(file, 'FULL');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.s = {
      entry: db.prepare('SELECT op_id, kind, fingerprint, postings, meta, ts FROM ledger_entries WHERE op_id = ?'),
      refundOf: db.prepare('SELECT op_id FROM ledger_entries WHERE refund_of = ?'),
      balance: db.prepare('SELECT balance FROM ledger_accounts WHERE account = ?'),
      // RETURNING: the balance after the posting, so the result needs no second read per account.
      upsert: db.prepare(`INSERT INTO ledger_accounts (account, balance) VALUES (?, ?)
        ON CONFLICT(account) DO UPDATE SET balance = balance + excluded.balance RETURNING balance`),
      insert: db.prepare(`INSERT INTO ledger_entries (op_id, kind, fingerprint, postings, meta, ts, room, stream, refund_of)
        VALUES (@opId, @kind, @fingerprint, @postings, @meta, @ts, @room, @stream, @refundOf)`),
      link: db.prepare('INSERT INTO ledger_entry_accounts (account, ts, op_id) VALUES (?, ?, ?)'),
      history: db.prepare(`SELECT e.op_id, e.kind, e.fingerprint, e.postings, e.meta, e.ts FROM ledger_entry_accounts a
        JOIN ledger_entries e ON e.op_id = a.op_id WHERE a.account = @account AND (a.ts < @ts OR (a.ts = @ts AND a.op_id < @opId))
        ORDER BY a.ts DESC, a.op_id DESC LIMIT @limit`),
      stream: db.prepare(`SELECT op_id, kind, fingerprint, postings, meta, ts FROM ledger_entries
        WHERE room = ? AND stream = ? AND kind = 'gift' ORDER BY ts, op_id`),
      accounts: db.prepare('SELECT account, balance FROM ledger_accounts'),
      count: db.prepare('SELECT COUNT(*) AS n FROM ledger_entries'),
      rejection: db.prepare('SELECT fingerprint, code, message FROM ledger_rejections WHERE op_id = ?'),
      reject: db.prepare('INSERT INTO ledger_rejections (op_id, fingerprint, code, message, ts) VALUES (?, ?, ?, ?, ?)'),
    };
    this.commits = new GroupCommit(db, (op: LedgerOp) => this.applyLocked(op, Date.now()));
  }

  async apply(op: LedgerOp): Promise<LedgerResult> {
    const invalid = validateOp(op);
    if (invalid) return { ok: false, code: 'INVALID_AMOUNT', message: invalid };
    return this.commits.submit(op);
  }

  private applyLocked(op: LedgerOp, now: number): LedgerResult {
    const fp = fingerprint(op);
    const existing = this.s.entry.get(op.opId) as EntryRow | undefined;
    if (existing) {
      if (existing.fingerprint !== fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${op.opId} was used for a different operation` };
      const entry = toEntry(existing);
      return { ok: true, entry, replayed: true, balances: this.balancesOf(entry.postings) };
    }
    const rejected = this.s.rejection.get(op.opId) as { fingerprint: string; code: LedgerErrorCode; message: string } | undefined;
    if (rejected) {
      if (rejected.fingerprint !== fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${op.opId} was used for a different operation` };
      return { ok: false, code: rejected.code, message: rejected.message };
    }
    // A refused operation's id stays refused: retrying it returns the same answer, as with a payment
    // provider's idempotency key. The client picks a new op id for a new attempt.
    const refuse = (code: LedgerErrorCode, message: string): LedgerResult => {
      this.s.reject.run(op.opId, fp, code, message, now);
      return { ok: false, code, message };
    };
    let original: LedgerEntry | undefined;
    if (op.kind === 'refund') {
      const row = this.s.entry.get(op.refundOf) as EntryRow | undefined;
      if (!row || !REFUNDABLE.has(row.kind)) return { ok: false, code: 'NOT_REFUNDABLE', message: `${op.refundOf} is not a refundable operation` };
      if (this.s.refundOf.get(op.refundOf)) return refuse('NOT_REFUNDABLE', `${op.refundOf} was already refunded`);
      original = toEntry(row);
    }
    const postings = postingsFor(op, original);
    for (const p of postings) {
      if (p.delta >= 0 || mayGoNegative(p)) continue;
      const have = (this.s.balance.get(p.account) as { balance: number } | undefined)?.balance ?? 0;
      if (have + p.delta < 0) {
        const why = uncoveredDebit(p.account, have, p.delta);
        return refuse(why.code, why.message);
      }
    }
    const balances: Record<string, number> = {};
    for (const p of postings) {
      const after = (this.s.upsert.get(p.account, p.delta) as { balance: number }).balance;
      if (!isExternal(p.account)) balances[p.account] = after;
    }
    const meta = metaOf(op);
    const entry: LedgerEntry = { opId: op.opId, kind: op.kind, postings, meta, ts: now };
    this.s.insert.run({
      opId: op.opId, kind: op.kind, fingerprint: fp, postings: JSON.stringify(postings), meta: JSON.stringify(meta), ts: now,
      room: op.kind === 'gift' ? op.room : null, stream: op.kind === 'gift' ? op.stream : null, refundOf: op.kind === 'refund' ? op.refundOf : null,
    });
    for (const account of new Set(postings.map((p) => p.account))) this.s.link.run(account, now, op.opId);
    return { ok: true, entry, replayed: false, balances };
  }

  private balancesOf(postings: readonly Posting[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of postings) if (!isExternal(p.account)) out[p.account] = (this.s.balance.get(p.account) as { balance: number } | undefined)?.balance ?? 0;
    return out;
  }

  async balance(account: string): Promise<number> {
    return (this.s.balance.get(account) as { balance: number } | undefined)?.balance ?? 0;
  }

  async history(account: string, page: { limit: number; before?: HistoryCursor }): Promise<LedgerEntry[]> {
    const before = page.before ?? { ts: Number.MAX_SAFE_INTEGER, opId: '' };
    return (this.s.history.all({ account, ts: before.ts, opId: before.opId, limit: page.limit }) as EntryRow[]).map(toEntry);
  }

  async entry(opId: string): Promise<LedgerEntry | null> {
    const row = this.s.entry.get(opId) as EntryRow | undefined;
    return row ? toEntry(row) : null;
  }

  async giftsForStream(room: string, stream: string): Promise<LedgerEntry[]> {
    return (this.s.stream.all(room, stream) as EntryRow[]).map(toEntry);
  }

  async recover(): Promise<{ completed: number; reversed: number }> {
    // One transaction per operation: a crash leaves nothing half-done.
    return { completed: 0, reversed: 0 };
  }

  async totals(): Promise<LedgerTotals> {
    const rows = this.s.accounts.all() as { account: string; balance: number }[];
    return totalsOf(rows.map((r) => [r.account, r.balance]), (this.s.count.get() as { n: number }).n, 0);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    // Wherever the id occurs (the account, postings, meta, an op id that embeds it), one transaction.
    return sqlitePersonalData(this.db, [
      { table: 'ledger_accounts', section: null, owner: ['account'], erase: 'pseudonymise' },
      { table: 'ledger_entries', section: null, owner: ['op_id', 'postings', 'meta', 'refund_of'], erase: 'pseudonymise' },
      { table: 'ledger_entry_accounts', section: null, owner: ['account', 'op_id'], erase: 'pseudonymise' },
      { table: 'ledger_rejections', section: null, owner: ['op_id', 'message'], erase: 'pseudonymise' },
    ]).eraseUser(e);
  }

  async close(): Promise<void> {
    this.commits.flush();
    if (this.db.open) this.db.close();
  }
}

export const sqliteLedgerSatisfiesPort = SqliteLedger satisfies new (file: string) => Ledger;
