/**
 * Purchases: how coins are bought and how a reversed payment takes them back. The server decides every
 * amount from the coin catalog; a client only names a package (and, on the stores, hands over the signed
 * proof of its payment). Coins move only through the ledger, with op ids derived from the provider's id,
 * so every path credits exactly once whatever the order, repetition or delay of provider events:
 *
 *   purchase:<channel>:<ref>   credit        clawback:<channel>:<ref>   refund, dispute, fraud warning, revocation
 *   hold:stripe:<pi>           review open   release:stripe:<pi>        review closed
 *   reinstate:<channel>:<ref>  a dispute won after the clawback
 *
 * Because a clawback may leave the buyer in debt (docs/money.md § Debt), these operations commute: a
 * refund delivered before the payment's success nets to zero just as the reverse order does.
 */
import { randomUUID } from 'node:crypto';
import type { Ledger, LedgerOp, LedgerResult, PurchaseChannel } from '../adapters/ledger/ledger';
import { KeyedLock } from '../adapters/ledger/keyed-lock';
import type { PaymentEvent, PaymentGateway } from '../adapters/payments/payment-gateway';
import type { PurchasePage, PurchaseRecord, PurchaseStore } from '../adapters/purchases/purchase-store';
import type { CoinCatalog, CoinPackage } from './coin-packages';
import type { AppStoreVerifier, StoreTransaction } from '../adapters/payments/app-store-verifier';
import type { GooglePlayVerifier } from '../adapters/payments/google-play-verifier';
import { createHash } from 'node:crypto';
import { MINOR_UNITS } from './currencies';
import type { ShopCurrency } from './currencies';

/** Why a purchase request or a provider event was refused, as stable codes the API maps to HTTP errors. */
export type PurchaseErrorCode = 'OP_ID_REUSED' | 'UNKNOWN_PACKAGE' | 'CHANNEL_UNAVAILABLE' | 'PROVIDER_FAILED' | 'RECEIPT_INVALID' | 'RECEIPT_CLAIMED' | 'RETRY_LATER';

export class PurchaseError extends Error {
  constructor(readonly code: PurchaseErrorCode, message: string) {
    super(message);
  }
}

/** What handling one provider event did. */
export type EventOutcome = 'credited' | 'held' | 'released' | 'clawed_back' | 'reinstated' | 'status' | 'duplicate' | 'ignored' | 'refused';

/** A money event for analytics (purchase, refund, dispute), amounts in minor units. */
export interface PurchaseAnalyticsEvent {
  readonly id: string;
  readonly ts: number;
  readonly type: 'purchase' | 'refund' | 'dispute';
  readonly user: string;
  readonly channel: PurchaseChannel;
  readonly coins: number;
  readonly amountMinor: number;
  readonly currency: string;
  readonly baseAmountMinor: number;
}

export interface PurchaseDeps {
  readonly ledger: Ledger;
  readonly store: PurchaseStore;
  readonly catalog: CoinCatalog;
  /** Null when Stripe is not configured: its routes answer 503. */
  readonly stripe: PaymentGateway | null;
  /** Null when the App Store is not configured. */
  readonly appStore?: AppStoreVerifier | null;
  /** Null when Google Play is not configured. */
  readonly googlePlay?: GooglePlayVerifier | null;
  readonly analytics?: (event: PurchaseAnalyticsEvent) => void;
  /** Every refusal and every reversal, for the security log. */
  readonly security: (event: { type: string; userId: string | null; detail: string }) => void;
  readonly now?: () => number;
}

export interface StartedPurchase {
  readonly purchase: PurchaseRecord;
  /** The provider's payment id (Stripe PaymentIntent). */
  readonly paymentIntent: string;
  /** A retry with the same op id: the purchase started before. */
  readonly replayed: boolean;
  readonly clientSecret: string;
  readonly providerStatus: string;
}

/**
 * The UUID an iOS app sets as `appAccountToken` when it starts a purchase for this user, so the server can
 * tell whose purchase a transaction is: SHA-256 of the user id, shaped as an RFC 9562 version 8 UUID.
 */
export function appAccountToken(user: string): string {
  const h = createHash('sha256').update(`halobuzz-appstore:${user}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export class PurchaseService {
  private readonly lock = new KeyedLock();
  private readonly now: () => number;

  constructor(private readonly deps: PurchaseDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Creates a Stripe PaymentIntent for a package at the catalog's price; coins wait for the verified webhook. */
  async startStripe(user: string, packageId: string, currency: ShopCurrency, opId?: string): Promise<StartedPurchase> {
    const stripe = this.deps.stripe;
    if (!stripe) throw new PurchaseError('CHANNEL_UNAVAILABLE', 'card payments are not configured (STRIPE_SECRET_KEY)');
    const pkg = this.deps.catalog.get(packageId);
    if (!pkg) throw new PurchaseError('UNKNOWN_PACKAGE', `no coin package ${packageId}`);
    const price = this.deps.catalog.price(pkg, currency);
    const now = this.now();
    // A retry with the client's op id continues the same purchase (and Stripe's idempotency key returns the same intent).
    const earlier = opId ? await this.deps.store.byRequest(user, opId) : null;
    if (earlier && (earlier.packageId !== packageId || earlier.currency !== price.currency)) throw new PurchaseError('OP_ID_REUSED', `op id ${opId} was used for a different purchase`);
    const record: PurchaseRecord = earlier ?? {
      id: `pur_${randomUUID().replace(/-/g, '')}`, user, channel: 'stripe', packageId, coins: pkg.coins, amountMinor: price.amountMinor,
      currency: price.currency, baseAmountMinor: this.deps.catalog.baseAmount(pkg), providerRef: null, status: 'created', review: '', reason: '',
      createdAt: now, updatedAt: now, requestId: opId ?? null,
    };
    if (!earlier && !(await this.deps.store.create(record))) {
      // The same op id raced in from a parallel retry: continue that purchase.
      return this.startStripe(user, packageId, currency, opId);
    }
    let intent;
    try {
      intent = earlier?.providerRef ? await stripe.getIntent(earlier.providerRef)
        : await stripe.createIntent({ purchase: record.id, user, packageId, amountMinor: price.amountMinor, currency: price.currency });
    } catch (err) {
      await this.deps.store.update(record.id, { status: 'failed', reason: 'provider_error' }, this.now());
      throw new PurchaseError('PROVIDER_FAILED', `the payment provider did not create the payment: ${(err as Error).message}`);
    }
    // Checked when the intent is created (a continued purchase's intent was checked then; webhooks are checked again).
    if (!earlier?.providerRef && (intent.amountMinor !== price.amountMinor || intent.currency !== price.currency)) {
      await this.deps.store.update(record.id, { status: 'failed', reason: 'provider_amount_mismatch' }, this.now());
      throw new PurchaseError('PROVIDER_FAILED', `the provider created ${intent.amountMinor} ${intent.currency}, not the catalog's ${price.amountMinor} ${price.currency}`);
    }
    const status = earlier && earlier.status !== 'created' && earlier.status !== 'requires_action' ? earlier.status : intent.status === 'requires_action' ? 'requires_action' : 'created';
    await this.deps.store.update(record.id, { providerRef: intent.id, status }, this.now());
    return { purchase: { ...record, providerRef: intent.id, status }, paymentIntent: intent.id, clientSecret: intent.clientSecret, providerStatus: intent.status, replayed: earlier !== null };
  }

  /**
   * Credits an App Store purchase from its StoreKit 2 signed transaction, once per transaction id. The
   * transaction must verify, be a consumable coin product, not be revoked, and (when the app set one)
   * carry this user's account token; a transaction already credited to someone else is refused.
   */
  async claimAppStore(user: string, signedTransaction: string): Promise<PurchaseRecord> {
    const verifier = this.deps.appStore;
    if (!verifier) throw new PurchaseError('CHANNEL_UNAVAILABLE', 'App Store purchases are not configured (HALOBUZZ_APPLE_BUNDLE_ID)');
    const verified = await verifier.transaction(signedTransaction);
    if (!verified.ok) return this.refuse(user, 'appstore', `transaction did not verify (${verified.reason})`);
    const tx = verified.value;
    const pkg = this.deps.catalog.forProduct('appstore', tx.productId);
    if (!pkg || tx.type !== 'Consumable') return this.refuse(user, 'appstore', `${tx.productId} (${tx.type}) is not a coin product`);
    if (tx.revoked) return this.refuse(user, 'appstore', `transaction ${tx.transactionId} was refunded or revoked`);
    if (tx.appAccountToken !== null && tx.appAccountToken !== appAccountToken(user)) return this.refuse(user, 'appstore', `transaction ${tx.transactionId} belongs to another account token`);
    return this.lock.run(`appstore:${tx.transactionId}`, () => this.creditStore(user, 'appstore', tx.transactionId, pkg, this.storeAmount(pkg, tx)));
  }

  /** App Store Server Notifications V2: REFUND and REVOKE claw back; others are acknowledged. */
  async handleAppStoreNotification(signedPayload: string): Promise<EventOutcome> {
    const verifier = this.deps.appStore;
    if (!verifier) throw new PurchaseError('CHANNEL_UNAVAILABLE', 'App Store purchases are not configured (HALOBUZZ_APPLE_BUNDLE_ID)');
    const verified = await verifier.notification(signedPayload);
    if (!verified.ok) throw new PurchaseError('RECEIPT_INVALID', `notification did not verify (${verified.reason})`);
    const n = verified.value;
    if (n.id && (await this.deps.store.hasEvent('appstore', n.id))) return 'duplicate';
    let outcome: EventOutcome = 'ignored';
    const tx = n.transaction;
    if ((n.type === 'REFUND' || n.type === 'REVOKE') && tx) {
      const r = await this.deps.store.byProviderRef('appstore', tx.transactionId);
      // Not credited here yet: the app's later claim carries the revocation and is refused.
      if (r) outcome = await this.lock.run(`appstore:${tx.transactionId}`, () => this.clawback(r, this.clawbackOp(r), n.type === 'REFUND' ? 'refund' : 'revoked', 'refund'));
    }
    if (n.id) await this.deps.store.recordEvent('appstore', n.id, n.type, outcome, this.now());
    return outcome;
  }

  /**
   * Credits a Google Play purchase: the token is looked up at Google (never trusted from the device), must
   * be a purchased (not pending, not cancelled) coin product of this user's account token when the app set
   * one, and is consumed after the credit so it can be bought again. Each order id credits once; a retry
   * after the consume answers the same purchase.
   */
  async claimGooglePlay(user: string, productId: string, token: string): Promise<PurchaseRecord> {
    const play = this.deps.googlePlay;
    if (!play) throw new PurchaseError('CHANNEL_UNAVAILABLE', 'Google Play purchases are not configured (HALOBUZZ_GOOGLE_PACKAGE_NAME)');
    const pkg = this.deps.catalog.forProduct('googleplay', productId);
    if (!pkg) return this.refuse(user, 'googleplay', `${productId} is not a coin product`);
    const found = await play.purchase(productId, token);
    if (!found.ok) {
      if (found.reason === 'error') throw new PurchaseError('PROVIDER_FAILED', `Google Play did not answer: ${found.detail}`);
      return this.refuse(user, 'googleplay', found.detail);
    }
    const p = found.value;
    if (p.state !== 'purchased') return this.refuse(user, 'googleplay', `the purchase is ${p.state}: nothing to credit`);
    if (p.accountToken !== null && p.accountToken !== appAccountToken(user)) return this.refuse(user, 'googleplay', `order ${p.orderId} belongs to another account token`);
    return this.lock.run(`googleplay:${p.orderId}`, async () => {
      const known = await this.deps.store.byProviderRef('googleplay', p.orderId);
      if (p.consumed && !known) return this.refuse(user, 'googleplay', `order ${p.orderId} was already consumed elsewhere`);
      const record = await this.creditStore(user, 'googleplay', p.orderId, pkg, { amountMinor: this.deps.catalog.baseAmount(pkg), currency: this.deps.catalog.data.baseCurrency });
      if (!p.consumed) {
        try {
          await play.consume(productId, token);
        } catch (err) {
          // Credited already; the next claim (or Google's own 3-day refund of unacknowledged purchases, then voided) settles it.
          this.deps.security({ type: 'purchase_consume_failed', userId: user, detail: `googleplay ${p.orderId}: ${(err as Error).message}` });
        }
      }
      return record;
    });
  }

  /** Claws back every voided Google Play purchase of the last 30 days (Google's window), once each. */
  async syncGoogleVoided(): Promise<{ voided: number; clawedBack: number }> {
    const play = this.deps.googlePlay;
    if (!play) throw new PurchaseError('CHANNEL_UNAVAILABLE', 'Google Play purchases are not configured (HALOBUZZ_GOOGLE_PACKAGE_NAME)');
    const list = await play.voided(this.now() - 30 * 86_400_000);
    let clawedBack = 0;
    for (const v of list) {
      if (await this.deps.store.hasEvent('googleplay', `voided:${v.orderId}`)) continue;
      const r = await this.deps.store.byProviderRef('googleplay', v.orderId);
      let outcome: EventOutcome = 'ignored';
      if (r) {
        outcome = await this.lock.run(`googleplay:${v.orderId}`, () => this.clawback(r, this.clawbackOp(r), 'voided', 'refund'));
        clawedBack++;
      }
      await this.deps.store.recordEvent('googleplay', `voided:${v.orderId}`, 'voided', outcome, this.now());
    }
    return { voided: list.length, clawedBack };
  }

  private storeAmount(pkg: CoinPackage, tx: StoreTransaction): { amountMinor: number; currency: string } {
    const digits = tx.currency ? MINOR_UNITS[tx.currency] : undefined;
    if (tx.priceMilli !== null && tx.currency && digits !== undefined && digits <= 3) {
      return { amountMinor: Math.round(tx.priceMilli / 10 ** (3 - digits)), currency: tx.currency };
    }
    return { amountMinor: this.deps.catalog.baseAmount(pkg), currency: this.deps.catalog.data.baseCurrency };
  }

  /** Records and credits a verified store purchase, once; the first account to claim it keeps it. */
  private async creditStore(user: string, channel: 'appstore' | 'googleplay', ref: string, pkg: CoinPackage, amount: { amountMinor: number; currency: string }): Promise<PurchaseRecord> {
    const now = this.now();
    const existing = await this.deps.store.byProviderRef(channel, ref);
    if (existing && existing.user !== user) {
      this.deps.security({ type: 'purchase_claimed_twice', userId: user, detail: `${channel} ${ref} was already credited to ${existing.user}` });
      throw new PurchaseError('RECEIPT_CLAIMED', `this ${channel} purchase was already credited to another account`);
    }
    const record: PurchaseRecord = existing ?? {
      id: `pur_${randomUUID().replace(/-/g, '')}`, user, channel, packageId: pkg.id, coins: pkg.coins, amountMinor: amount.amountMinor, currency: amount.currency,
      baseAmountMinor: this.deps.catalog.baseAmount(pkg), providerRef: ref, status: 'created', review: '', reason: '', createdAt: now, updatedAt: now,
    };
    if (!existing) await this.deps.store.create(record);
    const result = await this.apply({ kind: 'purchase', opId: `purchase:${channel}:${ref}`, user, coins: record.coins, channel, purchase: record.id });
    if (record.status !== 'reversed') await this.deps.store.update(record.id, { status: 'credited' }, this.now());
    if (!result.replayed) this.track('purchase', record, `purchase:${channel}:${ref}`);
    return (await this.deps.store.byId(record.id))!;
  }

  private clawbackOp(r: PurchaseRecord): LedgerOp {
    return { kind: 'clawback', opId: `clawback:${r.channel}:${r.providerRef}`, user: r.user, coins: r.coins, channel: r.channel, purchase: r.id };
  }

  private refuse(user: string, channel: PurchaseChannel, detail: string): never {
    this.deps.security({ type: 'purchase_proof_refused', userId: user, detail: `${channel}: ${detail}` });
    throw new PurchaseError('RECEIPT_INVALID', detail);
  }

  list(user: string, page: PurchasePage): Promise<PurchaseRecord[]> {
    return this.deps.store.list(user, page);
  }

  /**
   * Applies one verified Stripe event. Resolves once its effect is durable (the webhook then answers 2xx);
   * throws PurchaseError RETRY_LATER when the ledger asks to retry, so the provider delivers it again.
   */
  async handleStripe(event: PaymentEvent): Promise<EventOutcome> {
    if (await this.deps.store.hasEvent('stripe', event.id)) return 'duplicate';
    const pi = event.paymentIntent;
    const record = pi ? await this.deps.store.byProviderRef('stripe', pi) : null;
    if (!record || !pi) {
      await this.deps.store.recordEvent('stripe', event.id, event.type, 'ignored', this.now());
      return 'ignored';
    }
    const outcome = await this.lock.run(record.id, () => this.applyStripe(event, pi, record.id));
    await this.deps.store.recordEvent('stripe', event.id, event.type, outcome, this.now());
    return outcome;
  }

  private async applyStripe(event: PaymentEvent, pi: string, id: string): Promise<EventOutcome> {
    const r = (await this.deps.store.byId(id))!;
    const op = (kind: 'purchase' | 'clawback' | 'hold' | 'release', prefix: string): LedgerOp => (kind === 'purchase' || kind === 'clawback'
      ? { kind, opId: `${prefix}:stripe:${pi}`, user: r.user, coins: r.coins, channel: 'stripe', purchase: r.id }
      : { kind, opId: `${prefix}:stripe:${pi}`, user: r.user, coins: r.coins, purchase: r.id });
    switch (event.type) {
      case 'payment_intent.succeeded': {
        if (event.amountMinor !== r.amountMinor || event.currency !== r.currency) {
          this.deps.security({ type: 'purchase_amount_mismatch', userId: r.user, detail: `${r.id}: paid ${event.amountMinor} ${event.currency}, catalog ${r.amountMinor} ${r.currency}` });
          await this.deps.store.update(r.id, { status: 'refused', reason: 'amount_mismatch' }, this.now());
          return 'refused';
        }
        const result = await this.apply(op('purchase', 'purchase'));
        if (r.status !== 'reversed' && r.status !== 'held') await this.deps.store.update(r.id, { status: 'credited' }, this.now());
        if (!result.replayed) this.track('purchase', r, `purchase:stripe:${pi}`);
        return 'credited';
      }
      case 'payment_intent.requires_action':
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled':
        if (r.status === 'created' || r.status === 'requires_action') {
          await this.deps.store.update(r.id, { status: event.type === 'payment_intent.requires_action' ? 'requires_action' : 'failed' }, this.now());
        }
        return 'status';
      case 'review.opened':
        // A review closed before its opening was delivered holds nothing.
        if (r.review === 'closed') return 'ignored';
        await this.apply(op('hold', 'hold'));
        await this.deps.store.update(r.id, { review: 'open', ...(r.status === 'reversed' ? {} : { status: 'held' }) }, this.now());
        return 'held';
      case 'review.closed': {
        await this.deps.store.update(r.id, { review: 'closed', ...(r.status === 'held' ? { status: 'credited' } : {}) }, this.now());
        if (!(await this.deps.ledger.entry(`hold:stripe:${pi}`))) return 'status';
        await this.apply(op('release', 'release'));
        return 'released';
      }
      case 'radar.early_fraud_warning.created': {
        const stripe = this.deps.stripe!;
        try {
          await stripe.refund(pi, `efw:${event.objectId}`);
        } catch (err) {
          throw new PurchaseError('RETRY_LATER', `refunding after an early fraud warning failed: ${(err as Error).message}`);
        }
        return this.clawback(r, op('clawback', 'clawback'), 'early_fraud_warning', 'refund');
      }
      case 'charge.refunded':
        if (!event.fullyRefunded) {
          this.deps.security({ type: 'purchase_partial_refund', userId: r.user, detail: `${r.id}: ${event.amountRefundedMinor} of ${event.amountMinor} ${event.currency} refunded; coins kept (partial refunds are settled by an operator)` });
          return 'ignored';
        }
        return this.clawback(r, op('clawback', 'clawback'), 'refund', 'refund');
      case 'charge.dispute.created':
        return this.clawback(r, op('clawback', 'clawback'), 'dispute', 'dispute');
      case 'charge.dispute.closed': {
        if (event.status !== 'won' || !(await this.deps.ledger.entry(`clawback:stripe:${pi}`))) return 'status';
        // The bank sided with us: the money stays, so do the coins.
        await this.apply({ kind: 'purchase', opId: `reinstate:stripe:${pi}`, user: r.user, coins: r.coins, channel: 'stripe', purchase: r.id });
        await this.deps.store.update(r.id, { status: 'reinstated', reason: 'dispute_won' }, this.now());
        return 'reinstated';
      }
      default:
        return 'ignored';
    }
  }

  private async clawback(r: PurchaseRecord, op: LedgerOp, reason: string, kind: 'refund' | 'dispute'): Promise<EventOutcome> {
    const result = await this.apply(op);
    // The first reversal names the reason (a fraud warning's refund then arrives as charge.refunded).
    if (r.status !== 'reversed') await this.deps.store.update(r.id, { status: 'reversed', reason }, this.now());
    if (!result.replayed) {
      this.track(kind, r, op.opId);
      this.deps.security({ type: 'purchase_reversed', userId: r.user, detail: `${r.id} (${r.channel} ${r.providerRef}): ${reason}; ${r.coins} coins clawed back` });
    }
    return 'clawed_back';
  }

  /** Applies a ledger op; a retryable answer becomes RETRY_LATER, a refusal an error (both leave the event unrecorded). */
  private async apply(op: LedgerOp): Promise<Extract<LedgerResult, { ok: true }>> {
    const result = await this.deps.ledger.apply(op);
    if (result.ok) return result;
    if (result.code === 'OP_IN_PROGRESS') throw new PurchaseError('RETRY_LATER', result.message);
    throw new Error(`ledger refused ${op.opId}: ${result.code} ${result.message}`);
  }

  private track(type: PurchaseAnalyticsEvent['type'], r: PurchaseRecord, id: string): void {
    // Amounts stay positive; the type says which way the money went.
    this.deps.analytics?.({
      id, ts: this.now(), type, user: r.user, channel: r.channel, coins: r.coins, amountMinor: r.amountMinor,
      currency: r.currency, baseAmountMinor: r.baseAmountMinor,
    });
  }
}
