/**
 * PurchaseStore on MongoDB (the official driver; FerretDB here), so every API process sees every receipt:
 * a provider's webhook may reach another process than the one that started the purchase. Documents use
 * the SQLite store's column names, so a buyer's export reads the same on both engines.
 *
 * Uniqueness of the provider reference (per channel) and of the client request (per user) are claims
 * (adapters/mongo/mongo-claims.ts) taken before the receipt is written; a provider event is a document
 * keyed by provider and event id.
 */
import { MongoClient, type Collection } from 'mongodb';
import { insertOnce } from '../mongo/insert-once';
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport, type PersonalTable } from '../privacy/personal-data';
import { MongoClaims, type ClaimDoc } from '../mongo/mongo-claims';
import type { PurchaseChannel } from '../ledger/ledger';
import type { PurchasePage, PurchaseRecord, PurchaseStore } from './purchase-store';

interface PurchaseDoc {
  _id: string; id: string; user: string; channel: PurchaseChannel; package_id: string; coins: number; amount_minor: number; currency: string;
  base_amount_minor: number; provider_ref: string | null; status: PurchaseRecord['status']; review: PurchaseRecord['review']; reason: string;
  created_at: number; updated_at: number; request_id: string | null;
}
interface EventDoc { _id: string; provider: string; event_id: string; type: string; outcome: string; handled_at: number }

/** Receipts are kept for the tax years a seller must keep them: erasure pseudonymises their buyer. */
const PERSONAL: readonly PersonalTable[] = [{ table: 'purchases', section: 'purchases', owner: ['user'], erase: 'pseudonymise' }];

const toRecord = (d: PurchaseDoc): PurchaseRecord => ({
  id: d.id, user: d.user, channel: d.channel, packageId: d.package_id, coins: d.coins, amountMinor: d.amount_minor, currency: d.currency,
  baseAmountMinor: d.base_amount_minor, providerRef: d.provider_ref ?? null, status: d.status, review: d.review, reason: d.reason,
  createdAt: d.created_at, updatedAt: d.updated_at, requestId: d.request_id ?? null,
});
const refKey = (channel: string, ref: string) => `ref\n${channel}\n${ref}`;
const requestKey = (user: string, requestId: string) => `req\n${user}\n${requestId}`;

export class MongoPurchaseStore implements PurchaseStore {
  private readonly claims: MongoClaims;

  private constructor(private readonly client: MongoClient, private readonly purchases: Collection<PurchaseDoc>, private readonly events: Collection<EventDoc>, claims: Collection<ClaimDoc>, private readonly personal: PersonalData) {
    // A receipt needs its claims for as long as it exists (the user part is pseudonymised on erasure, the claim keeps the old key: harmless).
    this.claims = new MongoClaims(claims, async (owner) => ((await this.purchases.findOne({ _id: owner }, { projection: { _id: 1 } })) ? 'held' : 'gone'));
  }

  static async connect(url: string): Promise<MongoPurchaseStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const purchases = db.collection<PurchaseDoc>('purchases');
    await purchases.createIndex({ user: 1, created_at: -1, _id: -1 });
    await purchases.createIndex({ channel: 1, provider_ref: 1 });
    await purchases.createIndex({ user: 1, request_id: 1 });
    return new MongoPurchaseStore(client, purchases, db.collection('purchase_events'), db.collection('purchase_claims'), mongoPersonalData((name) => db.collection(name), PERSONAL));
  }

  async create(p: PurchaseRecord): Promise<boolean> {
    const keys = [...(p.providerRef !== null ? [refKey(p.channel, p.providerRef)] : []), ...(p.requestId ? [requestKey(p.user, p.requestId)] : [])];
    if (!(await this.claims.claimAll(keys, p.id))) return false;
    // False when the id exists: its claims (if these were its keys) stay with it.
    return insertOnce(this.purchases, {
      _id: p.id, id: p.id, user: p.user, channel: p.channel, package_id: p.packageId, coins: p.coins, amount_minor: p.amountMinor, currency: p.currency,
      base_amount_minor: p.baseAmountMinor, provider_ref: p.providerRef, status: p.status, review: p.review, reason: p.reason,
      created_at: p.createdAt, updated_at: p.updatedAt, request_id: p.requestId ?? null,
    });
  }

  async byId(id: string): Promise<PurchaseRecord | null> {
    const d = await this.purchases.findOne({ _id: id });
    return d ? toRecord(d) : null;
  }

  async byRequest(user: string, requestId: string): Promise<PurchaseRecord | null> {
    const d = await this.purchases.findOne({ user, request_id: requestId });
    return d ? toRecord(d) : null;
  }

  async byProviderRef(channel: PurchaseChannel, ref: string): Promise<PurchaseRecord | null> {
    const d = await this.purchases.findOne({ channel, provider_ref: ref });
    return d ? toRecord(d) : null;
  }

  async update(id: string, patch: Partial<Pick<PurchaseRecord, 'status' | 'providerRef' | 'review' | 'reason'>>, now: number): Promise<void> {
    const set: Partial<PurchaseDoc> = { updated_at: now };
    if (patch.providerRef !== undefined) {
      const current = await this.purchases.findOne({ _id: id }, { projection: { channel: 1, provider_ref: 1 } });
      if (current && patch.providerRef !== null && patch.providerRef !== current.provider_ref) {
        // The reference must stay unique, as the SQLite store's UNIQUE (channel, provider_ref) keeps it.
        if (!(await this.claims.claim(refKey(current.channel, patch.providerRef), id))) throw new Error(`provider reference ${patch.providerRef} already belongs to another purchase`);
        if (current.provider_ref !== null) await this.claims.release(refKey(current.channel, current.provider_ref), id);
      }
      set.provider_ref = patch.providerRef;
    }
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.review !== undefined) set.review = patch.review;
    if (patch.reason !== undefined) set.reason = patch.reason;
    await this.purchases.updateOne({ _id: id }, { $set: set });
  }

  async list(user: string, page: PurchasePage): Promise<PurchaseRecord[]> {
    const filter = page.before
      ? { user, $or: [{ created_at: { $lt: page.before.createdAt } }, { created_at: page.before.createdAt, _id: { $lt: page.before.id } }] }
      : { user };
    return (await this.purchases.find(filter).sort({ created_at: -1, _id: -1 }).limit(page.limit).toArray()).map(toRecord);
  }

  async hadReversal(user: string, since: number): Promise<boolean> {
    return (await this.purchases.findOne({ user, status: 'reversed', updated_at: { $gte: since } }, { projection: { _id: 1 } })) !== null;
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
