/**
 * App Store purchases: StoreKit 2 signed transactions and App Store Server Notifications V2, verified
 * offline with Apple's own library (`@apple/app-store-server-library`, SignedDataVerifier): the JWS
 * signature, the x5c chain up to the configured root certificates with Apple's extension OIDs on the leaf
 * and intermediate, validity dates, bundle id and environment. `onlineChecks` adds OCSP revocation checks
 * of the chain (on in production; the checks above always run). Only Production and Sandbox are accepted:
 * the library's Xcode and local-testing environments skip verification, so they are refused here.
 */
import { Environment, SignedDataVerifier, VerificationException } from '@apple/app-store-server-library';

export interface StoreTransaction {
  readonly transactionId: string;
  readonly productId: string;
  /** Consumable, Non-Consumable, Auto-Renewable Subscription, … */
  readonly type: string;
  /** The UUID the app attached to the purchase (docs/money.md: the buyer's account token), if any. */
  readonly appAccountToken: string | null;
  readonly quantity: number;
  /** Price in milli-units of `currency`, when the transaction carries it. */
  readonly priceMilli: number | null;
  readonly currency: string | null;
  /** Apple refunded or revoked it. */
  readonly revoked: boolean;
}

export interface StoreNotification {
  readonly id: string;
  readonly type: string;
  readonly transaction: StoreTransaction | null;
}

export type Verified<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface AppStoreSettings {
  readonly bundleId: string;
  readonly environment: 'Production' | 'Sandbox';
  /** DER or PEM root certificates the chain must end in (Apple's in production; a test's own in tests). */
  readonly rootCertificates: readonly Buffer[];
  /** Required for Production (Apple's numeric app id). */
  readonly appAppleId?: number;
  readonly onlineChecks: boolean;
}

export class AppStoreVerifier {
  private readonly verifier: SignedDataVerifier;

  constructor(settings: AppStoreSettings) {
    const env = settings.environment === 'Production' ? Environment.PRODUCTION : Environment.SANDBOX;
    this.verifier = new SignedDataVerifier([...settings.rootCertificates], settings.onlineChecks, env, settings.bundleId, settings.appAppleId);
  }

  async transaction(signed: string): Promise<Verified<StoreTransaction>> {
    try {
      const t = await this.verifier.verifyAndDecodeTransaction(signed);
      return { ok: true, value: toTransaction(t) };
    } catch (err) {
      return { ok: false, reason: reasonOf(err) };
    }
  }

  async notification(signedPayload: string): Promise<Verified<StoreNotification>> {
    try {
      const n = await this.verifier.verifyAndDecodeNotification(signedPayload);
      const signedTransaction = n.data?.signedTransactionInfo;
      let transaction: StoreTransaction | null = null;
      if (signedTransaction) {
        const t = await this.transaction(signedTransaction);
        if (!t.ok) return t;
        transaction = t.value;
      }
      return { ok: true, value: { id: n.notificationUUID ?? '', type: String(n.notificationType ?? ''), transaction } };
    } catch (err) {
      return { ok: false, reason: reasonOf(err) };
    }
  }
}

function toTransaction(t: Awaited<ReturnType<SignedDataVerifier['verifyAndDecodeTransaction']>>): StoreTransaction {
  return {
    transactionId: String(t.transactionId ?? ''), productId: String(t.productId ?? ''), type: String(t.type ?? ''),
    appAccountToken: t.appAccountToken ? String(t.appAccountToken).toLowerCase() : null, quantity: Number(t.quantity ?? 1),
    priceMilli: typeof t.price === 'number' ? t.price : null, currency: t.currency ? String(t.currency) : null,
    revoked: t.revocationDate !== undefined && t.revocationDate !== null,
  };
}

function reasonOf(err: unknown): string {
  if (err instanceof VerificationException) return `verification status ${err.status}`;
  return (err as Error).message ?? 'unverifiable';
}
