/**
 * Google Play purchases through the Android Publisher API (`@googleapis/androidpublisher`): a purchase
 * token is looked up server to server (never trusted from the device), consumed after the coins are
 * credited, and voided purchases are listed for clawback. Authenticated as a service account with a
 * self-signed JWT (no token exchange); `apiUrl` points the client at a local fake in tests.
 */
import { androidpublisher, auth, type androidpublisher_v3 } from '@googleapis/androidpublisher';

export interface PlayPurchase {
  readonly orderId: string;
  readonly state: 'purchased' | 'canceled' | 'pending';
  readonly consumed: boolean;
  /** What the app set with setObfuscatedAccountId (docs/money.md: the buyer's account token), if anything. */
  readonly accountToken: string | null;
  readonly quantity: number;
}

export interface VoidedPurchase {
  readonly orderId: string;
  readonly purchaseToken: string;
  readonly voidedAtMs: number;
}

export interface GooglePlaySettings {
  readonly packageName: string;
  /** The service account's JSON key (client_email, private_key, private_key_id). */
  readonly credentials: { readonly client_email: string; readonly private_key: string; readonly private_key_id?: string };
  /** Another API root (a local fake in tests), e.g. http://127.0.0.1:9999/ */
  readonly apiUrl?: string | null;
}

export type Lookup = { ok: true; value: PlayPurchase } | { ok: false; reason: 'unknown' | 'error'; detail: string };

export class GooglePlayVerifier {
  private readonly api: androidpublisher_v3.Androidpublisher;

  constructor(private readonly settings: GooglePlaySettings) {
    const client = new auth.JWT({
      email: settings.credentials.client_email, key: settings.credentials.private_key, scopes: ['https://www.googleapis.com/auth/androidpublisher'],
      ...(settings.credentials.private_key_id ? { keyId: settings.credentials.private_key_id } : {}),
    });
    // A self-signed JWT carrying the scope, sent as the bearer token: no round trip to Google's token endpoint.
    client.useJWTAccessWithScope = true;
    this.api = androidpublisher({ version: 'v3', auth: client, ...(settings.apiUrl ? { rootUrl: settings.apiUrl.endsWith('/') ? settings.apiUrl : `${settings.apiUrl}/` } : {}) });
  }

  async purchase(productId: string, token: string): Promise<Lookup> {
    try {
      const r = await this.api.purchases.products.get({ packageName: this.settings.packageName, productId, token });
      const d = r.data;
      const state = d.purchaseState === 0 ? 'purchased' : d.purchaseState === 2 ? 'pending' : 'canceled';
      return { ok: true, value: { orderId: d.orderId ?? '', state, consumed: d.consumptionState === 1, accountToken: d.obfuscatedExternalAccountId ?? null, quantity: d.quantity ?? 1 } };
    } catch (err) {
      const status = (err as { status?: number; response?: { status?: number } }).status ?? (err as { response?: { status?: number } }).response?.status;
      return status === 404 || status === 400 || status === 410 ? { ok: false, reason: 'unknown', detail: `token not known to Google Play (${status})` } : { ok: false, reason: 'error', detail: (err as Error).message };
    }
  }

  async consume(productId: string, token: string): Promise<void> {
    await this.api.purchases.products.consume({ packageName: this.settings.packageName, productId, token });
  }

  /** Purchases voided (refunded, charged back, revoked) since `sinceMs`, every page. */
  async voided(sinceMs: number): Promise<VoidedPurchase[]> {
    const out: VoidedPurchase[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.api.purchases.voidedpurchases.list({ packageName: this.settings.packageName, startTime: String(sinceMs), maxResults: 1000, ...(pageToken ? { token: pageToken } : {}) });
      for (const v of r.data.voidedPurchases ?? []) out.push({ orderId: v.orderId ?? '', purchaseToken: v.purchaseToken ?? '', voidedAtMs: Number(v.voidedTimeMillis ?? 0) });
      pageToken = r.data.tokenPagination?.nextPageToken ?? undefined;
    } while (pageToken);
    return out;
  }
}
