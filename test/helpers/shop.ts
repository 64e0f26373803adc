/** The coin shop's API dependencies for in-process API tests: the shipped catalog, a purchase store, no payment channel unless given. */
import { join } from 'node:path';
import { CoinCatalog } from '../../economy/coin-packages';
import { PurchaseService } from '../../economy/purchases';
import { SqlitePurchaseStore } from '../../adapters/purchases/purchase-store-sqlite';
import type { Ledger } from '../../adapters/ledger/ledger';
import type { PaymentGateway } from '../../adapters/payments/payment-gateway';
import { SqlitePayoutStore } from '../../adapters/payouts/payout-store-sqlite';
import { PayoutService } from '../../economy/payouts';
import { PayoutPolicy } from '../../economy/payout-policy';

export const SHIPPED_COIN_PACKAGES = join(__dirname, '..', '..', '..', 'config', 'coin-packages.json');

export function shopDeps(ledger: Ledger, storeFile: string, stripe: PaymentGateway | null = null) {
  const coinCatalog = CoinCatalog.fromFile(SHIPPED_COIN_PACKAGES);
  const store = new SqlitePurchaseStore(storeFile);
  const security: { type: string; userId: string | null; detail: string }[] = [];
  const purchases = new PurchaseService({ ledger, store, catalog: coinCatalog, stripe, security: (e) => void security.push(e) });
  const payoutStore = new SqlitePayoutStore(storeFile.replace(/\.sqlite$/, '-payouts.sqlite'));
  const payouts = new PayoutService({
    ledger, store: payoutStore, policy: PayoutPolicy.fromFile(join(__dirname, '..', '..', '..', 'config', 'payouts.json')), connect: null,
    hadReversal: (user, since) => store.hadReversal(user, since), signInAddresses: async () => [], security: (e) => void security.push(e), returnUrl: 'https://example.com/done',
  });
  return { coinCatalog, purchases, stripe, store, security, payouts, connect: null };
}
