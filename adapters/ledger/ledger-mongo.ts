/**
 * Ledger on MongoDB without multi-document transactions, and without trusting update atomicity:
 * FerretDB 1.x applies updates as read-modify-write in its proxy, so 200 concurrent `$inc` on one
 * document can leave 12 (measured here). Every correctness decision therefore rests on the one thing both
 * MongoDB and FerretDB enforce atomically: a unique key on insert.
 *
 * - Balances are an append-only chain per account: posting n+1 of account A is the document
 *   `A:n+1` holding the delta and the balance after it. Two writers racing for the same link collide on
 *   `_id`; the loser re-reads the head and tries again (optimistic concurrency).
 * - Each link also carries `key = opId|account` (unique), so a posting is applied at most once; a
 *   reversal is a further link with key `opId|account|undo`.
 * - An operation's fate is decided once, by inserting `ledger_outcomes/{opId}` (applied or reversed);
 *   whoever finds it already decided enforces that decision (completing the undo if it says reversed).
 *
 * Steps: insert the entry `pending` (its _id is the op id) → apply postings debits first → decide →
 * cache the state on the entry. A crash anywhere leaves a pending entry that `recover` (or a retry of the
 * same op id, once the lease expired) drives to the end. Entry `state` is a cache of the outcome for
 * queries; the outcome document is the truth.
 */
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedLock } from './keyed-lock';
import {
  ISSUANCE, REFUNDABLE, fingerprint, mayGoNegative, metaOf, postingsFor, validateOp,
  type Ledger, type LedgerEntry, type LedgerErrorCode, type LedgerOp, type LedgerResult, type LedgerTotals, type Posting,
} from './ledger';

interface EntryDoc {
  _id: string;
  kind: LedgerOp['kind'];
  fp: string;
  postings: Posting[];
  meta: Record<string, string | number>;
  ts: number;
  state: 'pending' | 'applied' | 'reversed';
  failure?: Failure;
  leaseUntil: number;
  owner: string;
  accounts: string[];
  room?: string;
  stream?: string;
  refundOf?: string;
}

interface ChainDoc {
  _id: string;
  account: string;
  seq: number;
  delta: number;
  balance: number;
  opId: string;
  key: string;
  ts: number;
}

interface Failure {
  code: LedgerErrorCode;
  message: string;
}

interface OutcomeDoc {
  _id: string;
  outcome: 'applied' | 'reversed';
  failure?: Failure;
}

export interface MongoLedgerOptions {
  readonly url: string;
  /** How long a pending entry belongs to the process that wrote it before recovery may take it over. */
  readonly leaseMs: number;
  /** Test hook: called after each step; throwing there simulates the process dying at that point. */
  readonly afterStep?: (step: string, opId: string) => void;
}

const isDuplicate = (e: unknown) => e instanceof MongoServerError && e.code === 11000;
const MAX_ATTEMPTS = 100;

/** Jittered exponential pause between optimistic retries (another process took the chain link). */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(50, 2 ** attempt));
}

function toEntry(d: EntryDoc): LedgerEntry {
  return { opId: d._id, kind: d.kind, postings: d.postings, meta: d.meta, ts: d.ts };
}

export class MongoLedger implements Ledger {
  private readonly owner = randomUUID();
  private readonly accountLock = new KeyedLock();

  private constructor(
    private readonly client: MongoClient,
    private readonly entries: Collection<EntryDoc>,
    private readonly chain: Collection<ChainDoc>,
    private readonly outcomes: Collection<OutcomeDoc>,
    private readonly refunds: Collection<{ _id: string; by: string }>,
    private readonly opts: MongoLedgerOptions,
  ) {}

  /** Connects and creates indexes; fails (never falls back) when the server cannot be reached. */
  static async connect(opts: MongoLedgerOptions): Promise<MongoLedger> {
    const client = new MongoClient(opts.url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const ledger = new MongoLedger(client, db.collection('ledger_entries'), db.collection('ledger_chain'),
      db.collection('ledger_outcomes'), db.collection('ledger_refunds'), opts);
    await ledger.chain.createIndex({ key: 1 }, { unique: true });
    await ledger.chain.createIndex({ account: 1, seq: -1 });
    await ledger.entries.createIndex({ accounts: 1, ts: -1 });
    await ledger.entries.createIndex({ room: 1, stream: 1, ts: 1 });
    await ledger.entries.createIndex({ state: 1, leaseUntil: 1 });
    return ledger;
  }

  async apply(op: LedgerOp): Promise<LedgerResult> {
    const invalid = validateOp(op);
    if (invalid) return { ok: false, code: 'INVALID_AMOUNT', message: invalid };
    const fp = fingerprint(op);
    const existing = await this.entries.findOne({ _id: op.opId });
    if (existing) return this.resume(existing, fp);

    let original: LedgerEntry | undefined;
    if (op.kind === 'refund') {
      const o = await this.entries.findOne({ _id: op.refundOf, state: 'applied' });
      if (!o || !REFUNDABLE.has(o.kind)) return { ok: false, code: 'NOT_REFUNDABLE', message: `${op.refundOf} is not a refundable operation` };
      original = toEntry(o);
    }
    const postings = postingsFor(op, original);
    const now = Date.now();
    const doc: EntryDoc = {
      _id: op.opId, kind: op.kind, fp, postings, meta: metaOf(op), ts: now, state: 'pending',
      leaseUntil: now + this.opts.leaseMs, owner: this.owner, accounts: [...new Set(postings.map((p) => p.account))],
      ...(op.kind === 'gift' ? { room: op.room, stream: op.stream } : {}),
      ...(op.kind === 'refund' ? { refundOf: op.refundOf } : {}),
    };
    try {
      await this.entries.insertOne(doc);
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      const raced = await this.entries.findOne({ _id: op.opId });
      if (!raced) throw e;
      return this.resume(raced, fp);
    }
    this.step('entry', op.opId);
    return this.drive(doc);
  }

  /** A known op id: return its outcome, or finish it if its writer died (lease expired). */
  private async resume(existing: EntryDoc, fp: string): Promise<LedgerResult> {
    if (existing.fp !== fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${existing._id} was used for a different operation` };
    const decided = await this.outcomes.findOne({ _id: existing._id });
    if (decided) return { ...(await this.enforce(existing, decided)), replayed: true } as LedgerResult;
    if (existing.leaseUntil > Date.now()) return { ok: false, code: 'OP_IN_PROGRESS', message: `op ${existing._id} is being applied; retry shortly` };
    // Best effort: tell other drivers we took it over. Correctness does not depend on this update.
    await this.entries.updateOne({ _id: existing._id }, { $set: { leaseUntil: Date.now() + this.opts.leaseMs, owner: this.owner } });
    const result = await this.drive(existing);
    return result.ok ? { ...result, replayed: true } : result;
  }

  private async drive(entry: EntryDoc): Promise<LedgerResult> {
    if (entry.refundOf && !(await this.claimRefund(entry.refundOf, entry._id))) {
      return this.decide(entry, { _id: entry._id, outcome: 'reversed', failure: { code: 'NOT_REFUNDABLE', message: `${entry.refundOf} was already refunded` } });
    }
    for (let i = 0; i < entry.postings.length; i++) {
      const p = entry.postings[i]!;
      if (!(await this.applyPosting(entry._id, p))) {
        return this.decide(entry, { _id: entry._id, outcome: 'reversed', failure: { code: 'INSUFFICIENT_FUNDS', message: `${p.account} cannot cover ${-p.delta}` } });
      }
      this.step(`posting:${i}`, entry._id);
    }
    return this.decide(entry, { _id: entry._id, outcome: 'applied' });
  }

  /** Records the outcome once; if another driver decided first, its decision is the one enforced. */
  private async decide(entry: EntryDoc, proposal: OutcomeDoc): Promise<LedgerResult> {
    let outcome = proposal;
    try {
      await this.outcomes.insertOne(proposal);
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      outcome = (await this.outcomes.findOne({ _id: entry._id }))!;
    }
    this.step(outcome.outcome, entry._id);
    return this.enforce(entry, outcome);
  }

  /** Makes the chain and the entry's cached state agree with a decided outcome. Idempotent. */
  private async enforce(entry: EntryDoc, outcome: OutcomeDoc): Promise<LedgerResult> {
    if (outcome.outcome === 'reversed') {
      for (const p of entry.postings) await this.undoPosting(entry._id, p);
      if (entry.refundOf && outcome.failure?.code !== 'NOT_REFUNDABLE') await this.refunds.deleteOne({ _id: entry.refundOf, by: entry._id });
    }
    if (entry.state !== outcome.outcome) {
      await this.entries.updateOne({ _id: entry._id }, { $set: { state: outcome.outcome, ...(outcome.failure ? { failure: outcome.failure } : {}) } });
    }
    if (outcome.outcome === 'reversed') return { ok: false, ...outcome.failure! };
    return { ok: true, entry: toEntry(entry), replayed: false, balances: await this.balancesOf(entry.postings) };
  }

  /** Appends one posting to its account's chain, once. False only when a debit is not covered. */
  private applyPosting(opId: string, p: Posting): Promise<boolean> {
    return this.accountLock.run(p.account, () => this.applyPostingLocked(opId, p));
  }

  private async applyPostingLocked(opId: string, p: Posting): Promise<boolean> {
    const key = `${opId}|${p.account}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const head = await this.head(p.account);
      const balance = head?.balance ?? 0;
      if (p.delta < 0 && !mayGoNegative(p.account) && balance + p.delta < 0) {
        // Uncovered now, unless this posting already happened (a crash after it, before the outcome).
        return (await this.chain.countDocuments({ key })) === 1;
      }
      if (await this.append(p.account, head, p.delta, opId, key)) return true;
      if ((await this.chain.countDocuments({ key })) === 1) return true;
    }
    throw new Error(`ledger contention on ${p.account}: gave up after ${MAX_ATTEMPTS} attempts`);
  }

  /** Reverses a posting that was applied and not yet reversed. */
  private undoPosting(opId: string, p: Posting): Promise<void> {
    return this.accountLock.run(p.account, () => this.undoPostingLocked(opId, p));
  }

  private async undoPostingLocked(opId: string, p: Posting): Promise<void> {
    const key = `${opId}|${p.account}`;
    const undoKey = `${key}|undo`;
    if ((await this.chain.countDocuments({ key })) === 0) return;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await backoff(attempt);
      if ((await this.chain.countDocuments({ key: undoKey })) === 1) return;
      const head = await this.head(p.account);
      if (await this.append(p.account, head, -p.delta, opId, undoKey)) return;
    }
    throw new Error(`ledger contention on ${p.account}: gave up undoing after ${MAX_ATTEMPTS} attempts`);
  }

  /** Inserts the next link after `head`; false when another writer took that link or the key exists. */
  private async append(account: string, head: ChainDoc | null, delta: number, opId: string, key: string): Promise<boolean> {
    const seq = (head?.seq ?? 0) + 1;
    try {
      await this.chain.insertOne({ _id: `${account}:${seq}`, account, seq, delta, balance: (head?.balance ?? 0) + delta, opId, key, ts: Date.now() });
      return true;
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      return false;
    }
  }

  private head(account: string): Promise<ChainDoc | null> {
    return this.chain.find({ account }).sort({ seq: -1 }).limit(1).next();
  }

  private async claimRefund(refundOf: string, by: string): Promise<boolean> {
    try {
      await this.refunds.insertOne({ _id: refundOf, by });
      return true;
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      return (await this.refunds.countDocuments({ _id: refundOf, by })) === 1;
    }
  }

  private async balancesOf(postings: readonly Posting[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of postings) if (p.account !== ISSUANCE) out[p.account] = await this.balance(p.account);
    return out;
  }

  private step(name: string, opId: string): void {
    this.opts.afterStep?.(name, opId);
  }

  async balance(account: string): Promise<number> {
    return (await this.head(account))?.balance ?? 0;
  }

  async history(account: string, page: { limit: number; before?: number }): Promise<LedgerEntry[]> {
    const docs = await this.entries
      .find({ accounts: account, state: 'applied', ts: { $lt: page.before ?? Number.MAX_SAFE_INTEGER } })
      .sort({ ts: -1, _id: -1 }).limit(page.limit).toArray();
    return docs.map(toEntry);
  }

  async entry(opId: string): Promise<LedgerEntry | null> {
    const d = await this.entries.findOne({ _id: opId, state: 'applied' });
    return d ? toEntry(d) : null;
  }

  async giftsForStream(room: string, stream: string): Promise<LedgerEntry[]> {
    const docs = await this.entries.find({ room, stream, kind: 'gift', state: 'applied' }).sort({ ts: 1, _id: 1 }).toArray();
    return docs.map(toEntry);
  }

  async recover(): Promise<{ completed: number; reversed: number }> {
    let completed = 0;
    let reversed = 0;
    for (const stale of await this.entries.find({ state: 'pending', leaseUntil: { $lt: Date.now() } }).toArray()) {
      const decided = await this.outcomes.findOne({ _id: stale._id });
      const r = decided ? await this.enforce(stale, decided) : await this.drive(stale);
      if (r.ok) completed++;
      else reversed++;
    }
    return { completed, reversed };
  }

  /** Audit scan over every chain head; meant for tests and reconciliation jobs, not the hot path. */
  async totals(): Promise<LedgerTotals> {
    const heads = new Map<string, { seq: number; balance: number }>();
    for await (const link of this.chain.find({}, { projection: { account: 1, seq: 1, balance: 1 } })) {
      const h = heads.get(link.account);
      if (!h || link.seq > h.seq) heads.set(link.account, { seq: link.seq, balance: link.balance });
    }
    let held = 0;
    let negativeAccounts = 0;
    for (const [account, h] of heads) {
      if (account === ISSUANCE) continue;
      held += h.balance;
      if (h.balance < 0) negativeAccounts++;
    }
    return {
      held,
      issued: -(heads.get(ISSUANCE)?.balance ?? 0),
      negativeAccounts,
      entries: await this.entries.countDocuments({}),
      pending: await this.entries.countDocuments({ state: 'pending' }),
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
