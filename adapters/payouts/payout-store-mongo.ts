/**
 * PayoutStore on MongoDB (the official driver; FerretDB here), so every API process sees every creator's
 * payout account and withdrawals (Stripe Connect's webhooks may reach any of them). Documents use the
 * SQLite store's column names, so a creator's export reads the same on both engines.
 *
 * The SQLite store's unique indexes become claims (adapters/mongo/mongo-claims.ts), taken before the
 * document is written:
 * - `open\n<user>`: the creator's one open withdrawal; given up when it leaves the open statuses, and
 *   taken over if the withdrawal holding it is no longer open (a crash between the two writes);
 * - `req\n<user>\n<request id>`: one withdrawal per client request, for good;
 * - `stripe\n<account>`: a Stripe account belongs to one creator.
 */
import { MongoClient, type Collection } from 'mongodb';
import { insertOnce } from '../mongo/insert-once';
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport, type PersonalTable } from '../privacy/personal-data';
import { MongoClaims, type ClaimDoc, type Holding } from '../mongo/mongo-claims';
import { OPEN_WITHDRAWAL, type PayoutAccount, type PayoutStore, type Withdrawal, type WithdrawalStatus } from './payout-store';

interface AccountDoc { _id: string; user: string; stripe_account: string; details_submitted: boolean; payouts_enabled: boolean; requirements_due: string[]; disabled_reason: string; updated_at: number }
interface WithdrawalDoc {
  _id: string; id: string; user: string; request_id: string; coins: number; currency: string; amount_minor: number; rate_date: string; status: WithdrawalStatus;
  reason: string; transfer: string; payout: string; decided_by: string; created_at: number; updated_at: number;
}
interface EventDoc { _id: string; provider: string; event_id: string; type: string; outcome: string; handled_at: number }

/** Payouts are income paid out and reported for tax: erasure pseudonymises the creator (the Stripe account keeps its own records). */
const PERSONAL: readonly PersonalTable[] = [
  { table: 'payout_accounts', section: 'payout_account', owner: ['_id', 'user'], erase: 'pseudonymise' },
  { table: 'withdrawals', section: 'withdrawals', owner: ['user', 'decided_by'], erase: 'pseudonymise' },
];

const isOpen = (s: WithdrawalStatus) => OPEN_WITHDRAWAL.includes(s);
const toAccount = (d: AccountDoc): PayoutAccount => ({
  user: d.user, stripeAccount: d.stripe_account, detailsSubmitted: d.details_submitted, payoutsEnabled: d.payouts_enabled,
  requirementsDue: [...d.requirements_due], disabledReason: d.disabled_reason, updatedAt: d.updated_at,
});
const toWithdrawal = (d: WithdrawalDoc): Withdrawal => ({
  id: d.id, user: d.user, requestId: d.request_id, coins: d.coins, currency: d.currency, amountMinor: d.amount_minor, rateDate: d.rate_date, status: d.status,
  reason: d.reason, transfer: d.transfer, payout: d.payout, decidedBy: d.decided_by, createdAt: d.created_at, updatedAt: d.updated_at,
});
const openKey = (user: string) => `open\n${user}`;
const requestKey = (user: string, requestId: string) => `req\n${user}\n${requestId}`;
const stripeKey = (account: string) => `stripe\n${account}`;

export class MongoPayoutStore implements PayoutStore {
  private readonly claims: MongoClaims;

  private constructor(
    private readonly client: MongoClient,
    private readonly accounts: Collection<AccountDoc>,
    private readonly withdrawals: Collection<WithdrawalDoc>,
    private readonly events: Collection<EventDoc>,
    claims: Collection<ClaimDoc>,
    private readonly personal: PersonalData,
  ) {
    this.claims = new MongoClaims(claims, (owner, key) => this.holding(owner, key));
  }

  static async connect(url: string): Promise<MongoPayoutStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const accounts = db.collection<AccountDoc>('payout_accounts');
    await accounts.createIndex({ user: 1 });
    await accounts.createIndex({ stripe_account: 1 });
    const withdrawals = db.collection<WithdrawalDoc>('withdrawals');
    await withdrawals.createIndex({ user: 1, created_at: -1 });
    await withdrawals.createIndex({ status: 1, created_at: 1 });
    return new MongoPayoutStore(client, accounts, withdrawals, db.collection('payout_events'), db.collection('payout_claims'), mongoPersonalData((name) => db.collection(name), PERSONAL));
  }

  /** Whether the document named by a claim still needs it. */
  private async holding(owner: string, key: string): Promise<Holding> {
    if (key.startsWith('stripe\n')) {
      // By the account, not the owner: an erasure renames the creator, the account stays theirs.
      return (await this.accounts.findOne({ stripe_account: key.slice('stripe\n'.length) }, { projection: { _id: 1 } })) ? 'held' : 'gone';
    }
    const w = await this.withdrawals.findOne({ _id: owner }, { projection: { status: 1 } });
    if (!w) return 'gone';
    return key.startsWith('open\n') && !isOpen(w.status) ? 'released' : 'held';
  }

  async account(user: string): Promise<PayoutAccount | null> {
    const d = await this.accounts.findOne({ _id: user });
    return d ? toAccount(d) : null;
  }

  async accountByStripe(stripeAccount: string): Promise<PayoutAccount | null> {
    const d = await this.accounts.findOne({ stripe_account: stripeAccount });
    return d ? toAccount(d) : null;
  }

  async saveAccount(a: PayoutAccount): Promise<void> {
    if (!(await this.claims.claim(stripeKey(a.stripeAccount), a.user))) throw new Error(`Stripe account ${a.stripeAccount} belongs to another creator`);
    const before = await this.accounts.findOne({ _id: a.user }, { projection: { stripe_account: 1 } });
    await this.accounts.replaceOne({ _id: a.user }, {
      user: a.user, stripe_account: a.stripeAccount, details_submitted: a.detailsSubmitted, payouts_enabled: a.payoutsEnabled,
      requirements_due: [...a.requirementsDue], disabled_reason: a.disabledReason, updated_at: a.updatedAt,
    }, { upsert: true });
    if (before && before.stripe_account !== a.stripeAccount) await this.claims.release(stripeKey(before.stripe_account), a.user);
  }

  async payoutUsers(): Promise<string[]> {
    return (await this.accounts.find({}, { projection: { user: 1 } }).sort({ user: 1 }).toArray()).map((d) => d.user);
  }

  async createWithdrawal(w: Withdrawal): Promise<boolean> {
    const keys = [...(isOpen(w.status) ? [openKey(w.user)] : []), ...(w.requestId !== '' ? [requestKey(w.user, w.requestId)] : [])];
    if (!(await this.claims.claimAll(keys, w.id))) return false;
    return insertOnce(this.withdrawals, {
      _id: w.id, id: w.id, user: w.user, request_id: w.requestId, coins: w.coins, currency: w.currency, amount_minor: w.amountMinor, rate_date: w.rateDate,
      status: w.status, reason: w.reason, transfer: w.transfer, payout: w.payout, decided_by: w.decidedBy, created_at: w.createdAt, updated_at: w.updatedAt,
    });
  }

  async withdrawal(id: string): Promise<Withdrawal | null> {
    const d = await this.withdrawals.findOne({ _id: id });
    return d ? toWithdrawal(d) : null;
  }

  async withdrawalByRequest(user: string, requestId: string): Promise<Withdrawal | null> {
    const d = await this.withdrawals.findOne({ user, request_id: requestId });
    return d ? toWithdrawal(d) : null;
  }

  async updateWithdrawal(id: string, patch: Partial<Pick<Withdrawal, 'status' | 'reason' | 'transfer' | 'payout' | 'decidedBy'>>, now: number): Promise<void> {
    const before = await this.withdrawals.findOne({ _id: id }, { projection: { user: 1, status: 1 } });
    if (before && patch.status !== undefined && isOpen(patch.status) && !isOpen(before.status)) {
      if (!(await this.claims.claim(openKey(before.user), id))) throw new Error(`${before.user} already has an open withdrawal`);
    }
    const set: Partial<WithdrawalDoc> = { updated_at: now };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.reason !== undefined) set.reason = patch.reason;
    if (patch.transfer !== undefined) set.transfer = patch.transfer;
    if (patch.payout !== undefined) set.payout = patch.payout;
    if (patch.decidedBy !== undefined) set.decided_by = patch.decidedBy;
    await this.withdrawals.updateOne({ _id: id }, { $set: set });
    // Closed: the creator may ask again (a crash before this release is healed by the claim's holding check).
    if (before && patch.status !== undefined && !isOpen(patch.status)) await this.claims.release(openKey(before.user), id);
  }

  async withdrawalsOf(user: string, limit: number): Promise<Withdrawal[]> {
    return (await this.withdrawals.find({ user }).sort({ created_at: -1, _id: -1 }).limit(limit).toArray()).map(toWithdrawal);
  }

  async withdrawalsIn(statuses: readonly WithdrawalStatus[], limit: number): Promise<Withdrawal[]> {
    if (statuses.length === 0) return [];
    return (await this.withdrawals.find({ status: { $in: [...statuses] } }).sort({ created_at: 1, _id: 1 }).limit(limit).toArray()).map(toWithdrawal);
  }

  async coinsSince(user: string, since: number): Promise<number> {
    const docs = await this.withdrawals.find({ user, created_at: { $gte: since }, status: { $nin: ['refused', 'rejected', 'failed', 'reversed'] } }, { projection: { coins: 1 } }).toArray();
    return docs.reduce((sum, d) => sum + d.coins, 0);
  }

  async recordEvent(provider: string, eventId: string, type: string, outcome: string, now: number): Promise<boolean> {
    return insertOnce(this.events, { _id: `${provider}\n${eventId}`, provider, event_id: eventId, type, outcome, handled_at: now });
  }

  async hasEvent(provider: string, eventId: string): Promise<boolean> {
    return (await this.events.findOne({ _id: `${provider}\n${eventId}` }, { projection: { _id: 1 } })) !== null;
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
