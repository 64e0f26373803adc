/**
 * PurchaseStore: the record of every coin purchase (what was sold, for how much, through which channel,
 * and where it stands) and of every provider event already handled. Coins themselves live in the ledger;
 * this is the receipt book and the provider's side of the story.
 */
import type { PurchaseChannel } from '../ledger/ledger';
import type { PersonalData } from '../privacy/personal-data';

export type PurchaseStatus = 'created' | 'requires_action' | 'credited' | 'held' | 'reversed' | 'reinstated' | 'failed' | 'refused';

export interface PurchaseRecord {
  /** Our id (`pur_…`), also the ledger's `purchase` field. */
  readonly id: string;
  readonly user: string;
  readonly channel: PurchaseChannel;
  readonly packageId: string;
  readonly coins: number;
  readonly amountMinor: number;
  readonly currency: string;
  /** The same amount in the catalog's base currency (USD minor units), for revenue in one currency. */
  readonly baseAmountMinor: number;
  /** The provider's id: PaymentIntent, App Store transaction id, Google order id. */
  readonly providerRef: string | null;
  readonly status: PurchaseStatus;
  /** Stripe Radar review: '' none, 'open', 'closed'. */
  readonly review: '' | 'open' | 'closed';
  /** Why the purchase was reversed or refused, when it was. */
  readonly reason: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The client's operation id for starting this purchase (card purchases), if it sent one. */
  readonly requestId?: string | null;
}

export interface PurchasePage {
  readonly limit: number;
  /** The `createdAt~id` of the previous page's last record. */
  readonly before?: { readonly createdAt: number; readonly id: string };
}

export interface PurchaseStore extends PersonalData {
  /** Inserts; false when a purchase with this id, or this channel and provider ref, exists. */
  create(record: PurchaseRecord): Promise<boolean>;
  byId(id: string): Promise<PurchaseRecord | null>;
  /** The user's purchase started with this client operation id, if any. */
  byRequest(user: string, requestId: string): Promise<PurchaseRecord | null>;
  byProviderRef(channel: PurchaseChannel, ref: string): Promise<PurchaseRecord | null>;
  update(id: string, patch: Partial<Pick<PurchaseRecord, 'status' | 'providerRef' | 'review' | 'reason'>>, now: number): Promise<void>;
  /** A user's purchases, newest first. */
  list(user: string, page: PurchasePage): Promise<PurchaseRecord[]>;
  /** Whether a purchase of this user was reversed (refunded, disputed, revoked, voided) since `since`. */
  hadReversal(user: string, since: number): Promise<boolean>;
  /** Records a provider event as handled; false when it was already. */
  recordEvent(provider: string, eventId: string, type: string, outcome: string, now: number): Promise<boolean>;
  hasEvent(provider: string, eventId: string): Promise<boolean>;
  close(): Promise<void>;
}
