/** The coin shop's API dependencies for in-process API tests: the shipped catalog, a purchase store, no payment channel unless given. */
import { join } from 'node:path';
import { CoinCatalog } from '../../economy/coin-packages';
import { PurchaseService } from '../../economy/purchases';
import { SqlitePurchaseStore } from '../../adapters/purchases/purchase-store-sqlite';
import type { Ledger } from '../../adapters/ledger/ledger';
import type { PaymentGateway } from '../../adapters/payments/payment-gateway';

export const SHIPPED_COIN_PACKAGES = join(__dirname, '..', '..', '..', 'config', 'coin-packages.json');

export function shopDeps(ledger: Ledger, storeFile: string, stripe: PaymentGateway | null = null) {
  const coinCatalog = CoinCatalog.fromFile(SHIPPED_COIN_PACKAGES);
  const store = new SqlitePurchaseStore(storeFile);
  const security: { type: string; userId: string | null; detail: string }[] = [];
  const purchases = new PurchaseService({ ledger, store, catalog: coinCatalog, stripe, security: (e) => void security.push(e) });
  return { coinCatalog, purchases, stripe, store, security };
}
