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
 * - An op id is claimed for its content (`ledger_ids/{opId}` holding the fingerprint) before anything of
 *   it is written, on both paths below: one op id never carries two contents, whichever process sees it.
 *
 * Two ways through, one set of keys:
 * - **Batched (the hot path).** Operations that arrive while a batch is being written queue up and go
 *   together. FerretDB runs one statement at a time (1–2 ms each) but inserts 50 documents in about the
 *   time of one, so a batch costs six round trips however many operations it holds, plus one per 100
 *   links: claim the op ids → write the batch's intent (`ledger_intents/{batch}`: every entry, leased)
 *   → insert every posting's link in operation order, in ordered inserts of at most 100 (ORDERED_CHUNK
 *   says why) → insert every outcome → insert every entry in its final state → delete the intent.
 *   Balances are planned from the cached heads; a stale head shows up as a taken `_id`, and a plan is
 *   never trusted beyond what the unique keys prove: the operations wholly in are decided, the one cut
 *   in two goes the careful way, and those not in at all are planned again on a head read afresh.
 * - **Careful (one operation at a time).** Refunds (they read the entry they reverse), operations whose
 *   debit the plan could not cover (the refusal is judged on a fresh head), and every operation of a
 *   batch that met a collision: insert the entry `pending` (its _id is the op id) → apply postings
 *   debits first → decide → cache the state on the entry. Each process caches the last link it knows
 *   per account and appends after it; a failed insert is resolved by reading the slot it aimed at.
 *
 * A retry of an operation this process is still applying waits for that attempt's result. A retry that
 * reaches another process while the first attempt's lease holds is told to wait (OP_IN_PROGRESS); after
 * the lease it finishes the operation from wherever the first attempt got to, as `recover` does for dead
 * batches (their intents) and dead careful operations (their pending entries). The keys and the single
 * outcome make every operation apply at most once.
 *
 * Speed on FerretDB 1.24 with its SQLite backend: inserts are cheap and batch well, and their unique
 * indexes are real; every read, even by `_id`, scans the collection (the pushdown it sends to SQLite goes
 * through json_each, which no index serves; a miss reads everything). So the batched path reads nothing
 * (its heads come from the cache), and reads are left to what happens once: an account's first use in a
 * process (one query for its newest link), collisions, recovery, balance reads, history, a room's rebuild.
 * `npm run bench -- ledger` measures what that costs as the ledger grows. On MongoDB every one of these
 * reads is served by an index. Entry `state` is a cache of the outcome for queries; the outcome document
 * is the truth.
 */
import { MongoBulkWriteError, MongoClient, MongoServerError, type Collection, type Filter } from 'mongodb';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedLock } from './keyed-lock';
import { scrub, type Erasure, type ErasureCounts } from '../privacy/personal-data';
import {
  REFUNDABLE, fingerprint, isExternal, mayGoNegative, metaOf, postingsFor, totalsOf, uncoveredDebit, validateOp,
  type HistoryCursor, type Ledger, type LedgerEntry, type LedgerErrorCode, type LedgerOp, type LedgerResult, type LedgerTotals, type Posting,
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

/** A batch about to be written: the recovery record until its entries are in. */
interface IntentDoc {
  _id: string;
  entries: EntryDoc[];
  leaseUntil: number;
  owner: string;
}

interface Queued {
  readonly op: LedgerOp;
  readonly fp: string;
  readonly resolve: (r: LedgerResult) => void;
  readonly reject: (e: unknown) => void;
  /** Batches this operation was planned in and nothing of it went in (a stale head): its id is claimed. */
  tries?: number;
}

/** A batch's answer per operation: its result, or back in the queue (planned on a stale head, nothing written). */
type Answer = Promise<LedgerResult> | 'requeued';

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
  /**
   * Cluster: the node this process runs for (`nodeOwnerTag`). Its operations carry it, so when the node is
   * found dead the others finish them at once (`ownerGone`, `takeOver`) instead of waiting out the lease.
   */
  readonly ownerTag?: string;
  /** Test hook: called after each step; throwing there simulates the process dying at that point. */
  readonly afterStep?: (step: string, opId: string) => void;
}

/** The owner tag of an owner id (`<tag>.<uuid>`), or null for an untagged one. */
function tagOf(owner: string): string | null {
  const dot = owner.lastIndexOf('.');
  return dot > 0 ? owner.slice(0, dot) : null;
}

const isDuplicate = (e: unknown) => e instanceof MongoServerError && e.code === 11000;
const MAX_ATTEMPTS = 100;
/** `ledger_meta` document: every pending entry of this database is covered by an intent. */
const INTENTS_MARK = 'pending-entries-have-intents';
/** Operations per batch: enough to amortise the round trips, small enough for one insert each. */
const MAX_BATCH = 256;
/** Times an operation is planned again after a stale head stopped its batch before any of it went in. */
const REPLANS = 3;
/**
 * Links per ordered insert. FerretDB 1.x honours `ordered` only within its internal chunks of 100
 * documents: after a failure it skips the rest of that chunk but inserts the next chunks (measured:
 * 150 links with a collision at the first left 51 in). A link inserted past a failed one would sit on
 * a gap with a balance planned from the missing link, so the chain is written in commands of at most
 * 100, stopping at the first that fails.
 */
const ORDERED_CHUNK = 100;

/** Indexes of the documents a bulk insert refused as duplicates; rethrows anything else. */
function duplicatesIn(e: unknown): Set<number> {
  if (e instanceof MongoBulkWriteError && e.writeErrors !== undefined) {
    const errors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
    if (errors.length > 0 && errors.every((w) => w.code === 11000)) return new Set(errors.map((w) => w.index));
  }
  throw e;
}

/** Jittered exponential pause between optimistic retries (another process took the chain link). */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(50, 2 ** attempt));
}

/**
 * Whether a document with this `_id` exists: a point read. (`countDocuments` runs as an aggregation that
 * FerretDB 1.x answers by reading the whole collection.)
 */
async function exists<T extends { _id: string }>(collection: Collection<T>, id: string): Promise<boolean> {
  return (await collection.findOne({ _id: id } as Filter<T>, { projection: { _id: 1 } })) !== null;
}

function toEntry(d: EntryDoc): LedgerEntry {
  return { opId: d._id, kind: d.kind, postings: d.postings, meta: d.meta, ts: d.ts };
}

export class MongoLedger implements Ledger {
  private readonly owner: string;
  /** Owner tags of processes found dead: their leases no longer hold. */
  private readonly goneOwners = new Set<string>();
  private readonly accountLock = new KeyedLock();
  /** Last known chain link per account (null: the account has no link yet). A hint, checked forward. */
  private readonly heads = new Map<string, ChainDoc | null>();
  /** Operations this process is applying, by op id: a concurrent retry waits for the same result. */
  private readonly inFlight = new Map<string, { fp: string; result: Promise<LedgerResult> }>();
  private queue: Queued[] = [];
  private batching = false;
  private scannedPendingEntries = false;

  private constructor(
    private readonly client: MongoClient,
    private readonly entries: Collection<EntryDoc>,
    private readonly chain: Collection<ChainDoc>,
    private readonly outcomes: Collection<OutcomeDoc>,
    private readonly refunds: Collection<{ _id: string; by: string }>,
    private readonly intents: Collection<IntentDoc>,
    private readonly ids: Collection<{ _id: string; fp: string }>,
    private readonly opts: MongoLedgerOptions,
  ) {
    this.owner = opts.ownerTag ? `${opts.ownerTag}.${randomUUID()}` : randomUUID();
  }

  /** Connects and creates indexes; fails (never falls back) when the server cannot be reached. */
  static async connect(opts: MongoLedgerOptions): Promise<MongoLedger> {
    const client = new MongoClient(opts.url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const ledger = new MongoLedger(client, db.collection('ledger_entries'), db.collection('ledger_chain'),
      db.collection('ledger_outcomes'), db.collection('ledger_refunds'), db.collection('ledger_intents'), db.collection('ledger_ids'), opts);
    await ledger.chain.createIndex({ key: 1 }, { unique: true });
    await ledger.chain.createIndex({ account: 1, seq: -1 });
    await ledger.entries.createIndex({ accounts: 1, ts: -1 });
    await ledger.entries.createIndex({ room: 1, stream: 1, ts: 1 });
    await ledger.entries.createIndex({ state: 1, leaseUntil: 1 });
    // A database this version started holds no pending entry without an intent: mark it so, and no
    // process ever scans its entries for recovery (at a million postings FerretDB takes ~50 s to).
    const meta = db.collection<{ _id: string }>('ledger_meta');
    if (await meta.findOne({ _id: INTENTS_MARK })) ledger.scannedPendingEntries = true;
    else if (!(await ledger.entries.findOne({}, { projection: { _id: 1 } }))) {
      await meta.insertOne({ _id: INTENTS_MARK }).catch((e: unknown) => {
        if (!isDuplicate(e)) throw e;
      });
      ledger.scannedPendingEntries = true;
    }
    return ledger;
  }

  async apply(op: LedgerOp): Promise<LedgerResult> {
    const invalid = validateOp(op);
    if (invalid) return { ok: false, code: 'INVALID_AMOUNT', message: invalid };
    const fp = fingerprint(op);
    const running = this.inFlight.get(op.opId);
    if (running) {
      if (running.fp !== fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${op.opId} was used for a different operation` };
      const r = await running.result;
      return r.ok ? { ...r, replayed: true } : r;
    }
    const result = op.kind === 'refund' ? this.applyCarefully(op, fp, 'unclaimed') : new Promise<LedgerResult>((resolve, reject) => {
      this.queue.push({ op, fp, resolve, reject });
      if (!this.batching) void this.runBatches();
    });
    this.inFlight.set(op.opId, { fp, result });
    try {
      return await result;
    } finally {
      this.inFlight.delete(op.opId);
    }
  }

  /** Writes queued operations a batch at a time; what arrives meanwhile forms the next batch. */
  private async runBatches(): Promise<void> {
    this.batching = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const results = await this.applyBatch(batch);
          batch.forEach((q, i) => {
            const r = results[i]!;
            if (r !== 'requeued') r.then(q.resolve, q.reject);
          });
        } catch (e) {
          for (const q of batch) q.reject(e);
        }
      }
    } finally {
      this.batching = false;
    }
  }

  /**
   * Plans the batch from the cached heads (an account with none yet is read first), writes it in six
   * round trips, and answers each operation: decided, back in the queue, or on its way the careful way
   * (operations the plan cannot cover, ids claimed already, the one a collision cut in two).
   */
  private async applyBatch(batch: readonly Queued[]): Promise<Answer[]> {
    const results: Answer[] = new Array(batch.length);
    const fresh = batch.filter((q) => q.tries === undefined);
    const knownFresh = await this.reserve(fresh);
    const known = new Set([...knownFresh].map((n) => batch.indexOf(fresh[n]!)));
    for (const q of batch) {
      for (const p of postingsFor(q.op)) if (!this.heads.has(p.account)) await this.accountLock.run(p.account, () => this.head(p.account, false));
    }
    const planned = new Map<string, { seq: number; balance: number }>();
    const headOf = (account: string) => planned.get(account) ?? { seq: this.heads.get(account)?.seq ?? 0, balance: this.heads.get(account)?.balance ?? 0 };
    const now = Date.now();
    const docs: EntryDoc[] = [];
    const links: ChainDoc[] = [];
    const linksOf: ChainDoc[][] = [];
    const planIndex: number[] = [];
    const careful: number[] = [];
    batch.forEach((q, i) => {
      if (known.has(i)) return;
      const postings = postingsFor(q.op);
      if (postings.some((p) => p.delta < 0 && !mayGoNegative(p) && headOf(p.account).balance + p.delta < 0)) {
        careful.push(i);
        return;
      }
      const own: ChainDoc[] = [];
      for (const p of postings) {
        const h = headOf(p.account);
        const link: ChainDoc = { _id: `${p.account}:${h.seq + 1}`, account: p.account, seq: h.seq + 1, delta: p.delta, balance: h.balance + p.delta, opId: q.op.opId, key: `${q.op.opId}|${p.account}`, ts: now };
        planned.set(p.account, { seq: link.seq, balance: link.balance });
        own.push(link);
      }
      links.push(...own);
      linksOf.push(own);
      planIndex.push(i);
      docs.push(this.entryDoc(q.op, q.fp, postings, now));
    });
    if (docs.length > 0) {
      const batchId = randomUUID();
      await this.intents.insertOne({ _id: batchId, entries: docs, leaseUntil: now + this.opts.leaseMs, owner: this.owner });
      for (const d of docs) this.step('entry', d._id);
      // Links go in operation order, so the ones in are a prefix: each operation is then wholly in,
      // not at all, or (at most one) partly.
      let inserted = links.length;
      for (let from = 0; from < links.length; from += ORDERED_CHUNK) {
        try {
          await this.chain.insertMany(links.slice(from, from + ORDERED_CHUNK), { ordered: true });
        } catch (e) {
          inserted = from + Math.min(...duplicatesIn(e));
          // A slot or key was taken: this account's cached head is stale (or the op id not new).
          this.heads.delete(links[inserted]!.account);
          break;
        }
      }
      for (const link of links.slice(0, inserted)) this.heads.set(link.account, link);
      const whole: number[] = [];
      const drives: Promise<LedgerResult>[] = [];
      const again: Queued[] = [];
      let at = 0;
      docs.forEach((d, k) => {
        const start = at;
        at += linksOf[k]!.length;
        const q = batch[planIndex[k]!]!;
        if (at <= inserted) whole.push(k);
        else if (start >= inserted && (q.tries ?? 0) < REPLANS) {
          // Nothing of it in: plan it again at the front of the queue, on the head just dropped.
          q.tries = (q.tries ?? 0) + 1;
          again.push(q);
          results[planIndex[k]!] = 'requeued';
        } else {
          // Partly in, or replanned often enough: the careful way, which finds what of it is in. It runs
          // beside the next batches (its reads are scans on FerretDB).
          drives.push((results[planIndex[k]!] = this.driveCarefully(d, start >= inserted)));
        }
      });
      this.queue.unshift(...again);
      const wholeDocs = whole.map((k) => docs[k]!);
      for (const d of wholeDocs) d.postings.forEach((_, n) => this.step(`posting:${n}`, d._id));
      const decided = await this.decideBatch(wholeDocs);
      whole.forEach((k, n) => {
        const outcome = decided[n]!;
        const balances: Record<string, number> = {};
        for (const link of linksOf[k]!) if (!isExternal(link.account)) balances[link.account] = link.balance;
        results[planIndex[k]!] = Promise.resolve(outcome === 'applied' ? { ok: true, entry: toEntry(docs[k]!), replayed: false, balances } : outcome);
      });
      // The intent goes once every operation in it is decided (one planned again is in its next batch's
      // intent), and stays for recovery if one failed. Callers hear back only after it went, so nobody
      // sees their operation still pending in the totals.
      const settled = Promise.all(drives).then(() => this.intents.deleteOne({ _id: batchId }));
      const gone = settled.then(() => undefined, () => undefined);
      for (const i of planIndex) {
        const r = results[i]!;
        if (r !== 'requeued') results[i] = r.then((v) => gone.then(() => v));
      }
      if (drives.length === 0) await settled;
    }
    // Refusals are judged on a fresh head, and claimed ids looked up: the careful way, also beside the next batches.
    for (const i of careful) results[i] = this.applyCarefully(batch[i]!.op, batch[i]!.fp, 'ours');
    for (const i of known) results[i] = this.applyCarefully(batch[i]!.op, batch[i]!.fp, 'theirs');
    return results;
  }

  /**
   * Claims each op id for its content (`ledger_ids`, unique `_id`) before anything of it is written: the
   * gate that keeps one op id to one content across processes and both paths. Returns the indexes whose
   * id was claimed already (a replay, a retry in flight elsewhere, or a reuse: the careful path tells which).
   */
  private async reserve(batch: readonly Pick<Queued, 'op' | 'fp'>[]): Promise<Set<number>> {
    if (batch.length === 0) return new Set();
    try {
      await this.ids.insertMany(batch.map((q) => ({ _id: q.op.opId, fp: q.fp })), { ordered: false });
      return new Set();
    } catch (e) {
      return duplicatesIn(e);
    }
  }

  /**
   * Outcomes, then entries in their final state, one insert each. An operation someone else decided
   * already (its op id was not new) gets that decision enforced instead. Returns 'applied' or the result.
   */
  private async decideBatch(docs: EntryDoc[]): Promise<('applied' | LedgerResult)[]> {
    if (docs.length === 0) return [];
    const out: ('applied' | LedgerResult)[] = docs.map(() => 'applied');
    let taken = new Set<number>();
    try {
      await this.outcomes.insertMany(docs.map((d) => ({ _id: d._id, outcome: 'applied' as const })), { ordered: false });
    } catch (e) {
      taken = duplicatesIn(e);
    }
    for (const k of taken) {
      const existing = (await this.entries.findOne({ _id: docs[k]!._id })) ?? docs[k]!;
      const outcome = (await this.outcomes.findOne({ _id: docs[k]!._id }))!;
      const r = await this.enforce(existing, outcome);
      out[k] = r.ok ? { ...r, replayed: true } : r;
    }
    for (const d of docs) this.step('applied', d._id);
    const fresh = docs.filter((_, k) => !taken.has(k)).map((d) => ({ ...d, state: 'applied' as const }));
    if (fresh.length > 0) {
      let clashed = new Set<number>();
      try {
        await this.entries.insertMany(fresh, { ordered: false });
      } catch (e) {
        clashed = duplicatesIn(e);
      }
      // A careful driver elsewhere inserted this entry pending: bring its cached state up to date.
      for (const k of clashed) await this.entries.updateOne({ _id: fresh[k]!._id }, { $set: { state: 'applied' } });
    }
    return out;
  }

  /**
   * A batched operation that met a collision, or one found in a dead batch's intent: the careful way,
   * from wherever it got to. `nothingApplied`: this process knows none of its links went in (and, having
   * inserted its pending entry first, that no other driver has started), so no link needs looking up.
   */
  private async driveCarefully(doc: EntryDoc, nothingApplied = false): Promise<LedgerResult> {
    const pending: EntryDoc = { ...doc, state: 'pending', leaseUntil: Date.now() + this.opts.leaseMs, owner: this.owner };
    try {
      await this.entries.insertOne(pending);
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      const existing = (await this.entries.findOne({ _id: doc._id }))!;
      if (existing.fp !== doc.fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${doc._id} was used for a different operation` };
      const decided = await this.outcomes.findOne({ _id: doc._id });
      if (decided) return { ...(await this.enforce(existing, decided)), replayed: true } as LedgerResult;
      return this.drive(existing, false);
    }
    return this.drive(pending, nothingApplied);
  }

  private entryDoc(op: LedgerOp, fp: string, postings: Posting[], now: number): EntryDoc {
    return {
      _id: op.opId, kind: op.kind, fp, postings, meta: metaOf(op), ts: now, state: 'pending',
      leaseUntil: now + this.opts.leaseMs, owner: this.owner, accounts: [...new Set(postings.map((p) => p.account))],
      ...(op.kind === 'gift' ? { room: op.room, stream: op.stream } : {}),
      ...(op.kind === 'refund' ? { refundOf: op.refundOf } : {}),
    };
  }

  /**
   * One operation on its own: its intent and entry (pending), then its postings, then the decision.
   * `claim`: whether this call has yet to claim the op id, just claimed it, or found it claimed already
   * (then a claim with other content is a reuse, and one still in a batch's intent or just decided is in
   * flight; a claim with nothing else behind it is a writer that died before its intent: take it over).
   */
  private async applyCarefully(op: LedgerOp, fp: string, claim: 'unclaimed' | 'ours' | 'theirs'): Promise<LedgerResult> {
    if (claim === 'unclaimed') claim = (await this.reserve([{ op, fp }])).size > 0 ? 'theirs' : 'ours';
    const existing = await this.entries.findOne({ _id: op.opId });
    if (existing) return this.resume(existing, fp);
    if (claim === 'theirs') {
      const claimed = await this.ids.findOne({ _id: op.opId });
      if (claimed && claimed.fp !== fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${op.opId} was used for a different operation` };
      const intent = await this.intents.findOne({ 'entries._id': op.opId });
      // A dead batch (lease run out, or its owner found dead): this retry finishes its operation (recovery would too).
      if (intent && this.abandoned(intent)) return this.driveCarefully(intent.entries.find((e) => e._id === op.opId)!);
      if (intent || (await exists(this.outcomes, op.opId))) {
        return { ok: false, code: 'OP_IN_PROGRESS', message: `op ${op.opId} is being applied; retry shortly` };
      }
    }
    let original: LedgerEntry | undefined;
    if (op.kind === 'refund') {
      const o = await this.entries.findOne({ _id: op.refundOf, state: 'applied' });
      if (!o || !REFUNDABLE.has(o.kind)) return { ok: false, code: 'NOT_REFUNDABLE', message: `${op.refundOf} is not a refundable operation` };
      original = toEntry(o);
    }
    const doc = this.entryDoc(op, fp, postingsFor(op, original), Date.now());
    // Its own intent, so recovery finds it without scanning the entries (which only grow).
    const intentId = `op:${op.opId}`;
    try {
      await this.intents.insertOne({ _id: intentId, entries: [doc], leaseUntil: doc.leaseUntil, owner: this.owner });
      await this.entries.insertOne(doc);
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      const raced = await this.entries.findOne({ _id: op.opId });
      if (!raced) return { ok: false, code: 'OP_IN_PROGRESS', message: `op ${op.opId} is being applied; retry shortly` };
      return this.resume(raced, fp);
    }
    this.step('entry', op.opId);
    const result = await this.drive(doc, true);
    await this.intents.deleteOne({ _id: intentId });
    return result;
  }

  /** A known op id: return its outcome, or finish it if its writer died (lease expired). */
  private async resume(existing: EntryDoc, fp: string): Promise<LedgerResult> {
    if (existing.fp !== fp) return { ok: false, code: 'OP_ID_REUSED', message: `op id ${existing._id} was used for a different operation` };
    const decided = await this.outcomes.findOne({ _id: existing._id });
    if (decided) return { ...(await this.enforce(existing, decided)), replayed: true } as LedgerResult;
    if (!this.abandoned(existing)) return { ok: false, code: 'OP_IN_PROGRESS', message: `op ${existing._id} is being applied; retry shortly` };
    // Best effort: tell other drivers we took it over. Correctness does not depend on this update.
    await this.entries.updateOne({ _id: existing._id }, { $set: { leaseUntil: Date.now() + this.opts.leaseMs, owner: this.owner } });
    const result = await this.drive(existing, false);
    return result.ok ? { ...result, replayed: true } : result;
  }

  /**
   * Applies the postings in order and decides. `fresh`: this process inserted the entry just now, so no
   * posting can have been applied before (no other driver may touch it while the lease holds).
   */
  private async drive(entry: EntryDoc, fresh: boolean): Promise<LedgerResult> {
    if (entry.refundOf && !(await this.claimRefund(entry.refundOf, entry._id))) {
      return this.decide(entry, { _id: entry._id, outcome: 'reversed', failure: { code: 'NOT_REFUNDABLE', message: `${entry.refundOf} was already refunded` } }, fresh ? 0 : undefined);
    }
    for (let i = 0; i < entry.postings.length; i++) {
      const p = entry.postings[i]!;
      if (!(await this.applyPosting(entry._id, p, fresh))) {
        const failure = uncoveredDebit(p.account, await this.balance(p.account), p.delta);
        return this.decide(entry, { _id: entry._id, outcome: 'reversed', failure }, fresh ? i : undefined);
      }
      this.step(`posting:${i}`, entry._id);
    }
    return this.decide(entry, { _id: entry._id, outcome: 'applied' });
  }

  /**
   * Records the outcome once; if another driver decided first, its decision is the one enforced.
   * `appliedBefore`: on a fresh reversal, the postings below this index are exactly the ones applied.
   */
  private async decide(entry: EntryDoc, proposal: OutcomeDoc, appliedBefore?: number): Promise<LedgerResult> {
    let outcome = proposal;
    try {
      await this.outcomes.insertOne(proposal);
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      outcome = (await this.outcomes.findOne({ _id: entry._id }))!;
    }
    this.step(outcome.outcome, entry._id);
    return this.enforce(entry, outcome, outcome === proposal ? appliedBefore : undefined);
  }

  /** Makes the chain and the entry's cached state agree with a decided outcome. Idempotent. */
  private async enforce(entry: EntryDoc, outcome: OutcomeDoc, appliedBefore?: number): Promise<LedgerResult> {
    if (outcome.outcome === 'reversed') {
      for (const [i, p] of entry.postings.entries()) {
        const applied = appliedBefore !== undefined ? i < appliedBefore : (await this.chain.countDocuments({ key: `${entry._id}|${p.account}` })) === 1;
        if (applied) await this.undoPosting(entry._id, p);
      }
      if (entry.refundOf && outcome.failure?.code !== 'NOT_REFUNDABLE') await this.refunds.deleteOne({ _id: entry.refundOf, by: entry._id });
    }
    if (entry.state !== outcome.outcome) {
      await this.entries.updateOne({ _id: entry._id }, { $set: { state: outcome.outcome, ...(outcome.failure ? { failure: outcome.failure } : {}) } });
    }
    if (outcome.outcome === 'reversed') return { ok: false, ...outcome.failure! };
    return { ok: true, entry: toEntry(entry), replayed: false, balances: await this.balancesOf(entry.postings) };
  }

  /** Appends one posting to its account's chain, once. False only when a debit is not covered. */
  private applyPosting(opId: string, p: Posting, fresh: boolean): Promise<boolean> {
    return this.accountLock.run(p.account, async () => {
      const key = `${opId}|${p.account}`;
      const appended = await this.appendOnce(p.account, p.delta, opId, key, (balance) => p.delta >= 0 || mayGoNegative(p) || balance + p.delta >= 0);
      if (appended !== 'uncovered') return true;
      // Uncovered now. A resumed operation may have applied it before the crash, when it was covered.
      return !fresh && (await this.chain.countDocuments({ key })) === 1;
    });
  }

  /** Reverses a posting known to be applied, once. */
  private undoPosting(opId: string, p: Posting): Promise<void> {
    return this.accountLock.run(p.account, async () => {
      await this.appendOnce(p.account, -p.delta, opId, `${opId}|${p.account}|undo`, () => true);
    });
  }

  /**
   * Appends a link with `key` to the account's chain unless `covers(balance)` says no. Returns 'appended'
   * also when a link with this key already exists (applied before, by us or another driver).
   */
  private async appendOnce(account: string, delta: number, opId: string, key: string, covers: (balance: number) => boolean): Promise<'appended' | 'uncovered'> {
    let head = await this.head(account, false);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const balance = head?.balance ?? 0;
      if (!covers(balance)) return 'uncovered';
      const seq = (head?.seq ?? 0) + 1;
      const link: ChainDoc = { _id: `${account}:${seq}`, account, seq, delta, balance: balance + delta, opId, key, ts: Date.now() };
      try {
        await this.chain.insertOne(link);
        this.heads.set(account, link);
        return 'appended';
      } catch (e) {
        if (!isDuplicate(e)) throw e;
      }
      // Either the slot was taken (by another process) or this key exists already: the slot tells which.
      const slot = await this.chain.findOne({ _id: link._id });
      if (!slot || slot.key === key) return 'appended';
      // Someone else appended, perhaps a whole batch: jump to the newest link rather than one step.
      head = (await this.searchHead(account)) ?? slot;
      this.heads.set(account, head);
      if (attempt > 2) await backoff(attempt);
    }
    throw new Error(`ledger contention on ${account}: gave up after ${MAX_ATTEMPTS} attempts`);
  }

  /** The newest link of an account, from the cache checked forward by `_id`, or found by search. */
  /**
   * The newest link of an account. `fresh` (balance reads): the cached link is checked forward by `_id`,
   * because another process may have appended since. Appends skip that read: a stale head only makes the
   * insert collide, and the slot it collided on is the next link.
   */
  private async head(account: string, fresh = true): Promise<ChainDoc | null> {
    let head = this.heads.has(account) ? this.heads.get(account)! : await this.searchHead(account);
    for (; fresh;) {
      const next = await this.chain.findOne({ _id: `${account}:${(head?.seq ?? 0) + 1}` });
      if (!next) break;
      head = next;
    }
    this.heads.set(account, head);
    return head;
  }

  /**
   * The account's newest link, in one query (index `account, seq`). FerretDB 1.x on SQLite answers every
   * read, even by `_id`, by scanning the collection (its pushdown goes through json_each, which no index
   * serves), so one query beats the O(log n) point reads a binary search over link ids would make.
   */
  private async searchHead(account: string): Promise<ChainDoc | null> {
    return this.chain.findOne({ account }, { sort: { seq: -1 } });
  }

  private async claimRefund(refundOf: string, by: string): Promise<boolean> {
    try {
      await this.refunds.insertOne({ _id: refundOf, by });
      return true;
    } catch (e) {
      if (!isDuplicate(e)) throw e;
      return (await this.refunds.findOne({ _id: refundOf }))?.by === by;
    }
  }

  private async balancesOf(postings: readonly Posting[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of postings) if (!isExternal(p.account)) out[p.account] = await this.balance(p.account);
    return out;
  }

  private step(name: string, opId: string): void {
    this.opts.afterStep?.(name, opId);
  }

  async balance(account: string): Promise<number> {
    return this.accountLock.run(account, async () => (await this.head(account))?.balance ?? 0);
  }

  async history(account: string, page: { limit: number; before?: HistoryCursor }): Promise<LedgerEntry[]> {
    const b = page.before;
    const docs = await this.entries
      .find({ accounts: account, state: 'applied', ...(b ? { $or: [{ ts: { $lt: b.ts } }, { ts: b.ts, _id: { $lt: b.opId } }] } : {}) })
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

  /**
   * Whether a pending batch or operation was left behind: its lease ran out, or its owner was found dead.
   * Either way its writer no longer drives it, and anyone may finish it from wherever it got to.
   */
  private abandoned(doc: { leaseUntil: number; owner: string }, now = Date.now()): boolean {
    if (doc.leaseUntil <= now) return true;
    const tag = tagOf(doc.owner);
    return tag !== null && this.goneOwners.has(tag);
  }

  ownerGone(tag: string): void {
    if (tag !== tagOf(this.owner)) this.goneOwners.add(tag);
  }

  async takeOver(tag: string): Promise<{ completed: number; reversed: number }> {
    this.ownerGone(tag);
    if (!this.goneOwners.has(tag)) return { completed: 0, reversed: 0 };
    return this.finishIntents(await this.intents.find({}).toArray(), (i) => tagOf(i.owner) === tag);
  }

  async recover(): Promise<{ completed: number; reversed: number }> {
    const now = Date.now();
    // Every intent when some owner is known dead (they are few: batches in flight), else the expired ones.
    const candidates = await this.intents.find(this.goneOwners.size > 0 ? {} : { leaseUntil: { $lt: now } }).toArray();
    const { completed, reversed } = await this.finishIntents(candidates, (i) => this.abandoned(i, now));
    return this.recoverUnmarked(completed, reversed);
  }

  /** Batches and careful operations whose writer died: each operation is finished or reversed from wherever it got to. */
  private async finishIntents(intents: readonly IntentDoc[], select: (intent: IntentDoc) => boolean): Promise<{ completed: number; reversed: number }> {
    let completed = 0;
    let reversed = 0;
    for (const intent of intents) {
      if (!select(intent)) continue;
      for (const d of intent.entries) {
        const decided = await this.outcomes.findOne({ _id: d._id });
        if (decided) {
          // Decided before the writer died; its entry may not have been written yet.
          try {
            await this.entries.insertOne({ ...d, state: decided.outcome, ...(decided.failure ? { failure: decided.failure } : {}) });
          } catch (e) {
            if (!isDuplicate(e)) throw e;
          }
          await this.enforce((await this.entries.findOne({ _id: d._id }))!, decided);
          continue;
        }
        const r = await this.driveCarefully(d);
        if (r.ok) completed++;
        else reversed++;
      }
      await this.intents.deleteOne({ _id: intent._id });
    }
    return { completed, reversed };
  }

  private async recoverUnmarked(completed: number, reversed: number): Promise<{ completed: number; reversed: number }> {
    // Every pending entry is written under an intent. Only a database an older version wrote to (no
    // INTENTS_MARK yet) has its entries scanned, once, for entries left pending without one; then it is
    // marked. (Upgrading: stop the older nodes before the first new one recovers.)
    if (this.scannedPendingEntries) return { completed, reversed };
    for (const stale of await this.entries.find({ state: 'pending', leaseUntil: { $lt: Date.now() } }).toArray()) {
      const decided = await this.outcomes.findOne({ _id: stale._id });
      const r = decided ? await this.enforce(stale, decided) : await this.drive(stale, false);
      if (r.ok) completed++;
      else reversed++;
    }
    this.scannedPendingEntries = true;
    await this.client.db().collection<{ _id: string }>('ledger_meta').insertOne({ _id: INTENTS_MARK }).catch((e: unknown) => {
      if (!isDuplicate(e)) throw e;
    });
    return { completed, reversed };
  }

  /** Audit scan over every chain head; meant for tests and reconciliation jobs, not the hot path. */
  async totals(): Promise<LedgerTotals> {
    const heads = new Map<string, { seq: number; balance: number }>();
    for await (const link of this.chain.find({}, { projection: { account: 1, seq: 1, balance: 1 } })) {
      const h = heads.get(link.account);
      if (!h || link.seq > h.seq) heads.set(link.account, { seq: link.seq, balance: link.balance });
    }
    const pending = new Set<string>();
    for await (const intent of this.intents.find({}, { projection: { 'entries._id': 1 } })) for (const e of intent.entries) pending.add(e._id);
    for await (const e of this.entries.find({ state: 'pending' }, { projection: { _id: 1 } })) pending.add(e._id);
    return totalsOf([...heads].map(([account, h]) => [account, h.balance]), await this.entries.countDocuments({}), pending.size);
  }

  /**
   * Chain links are immutable and keyed by the account, so each is copied under the pseudonymous account
   * and then removed (a crash between the two is finished by running it again: the copy collides); entries
   * are rewritten in place. Op ids are opaque to the ledger and stay as they are.
   */
  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const from = `user:${e.user}`;
    const to = `user:${e.pseudonym}`;
    const rename = (s: string) => s.split(e.user).join(e.pseudonym);
    let links = 0;
    for (const d of await this.chain.find({ account: from }).sort({ seq: 1 }).toArray()) {
      try {
        await this.chain.insertOne({ ...d, _id: rename(d._id), account: to, key: rename(d.key) });
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
      await this.chain.deleteOne({ _id: d._id });
      links++;
    }
    let entries = 0;
    for (const d of await this.entries.find({ accounts: from }).toArray()) {
      await this.entries.updateOne({ _id: d._id }, { $set: { postings: scrub(d.postings, e) as Posting[], accounts: d.accounts.map(rename), meta: scrub(d.meta, e) as EntryDoc['meta'] } });
      entries++;
    }
    this.heads.delete(from);
    return { ...(links > 0 ? { ledger_chain: links } : {}), ...(entries > 0 ? { ledger_entries: entries } : {}) };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
