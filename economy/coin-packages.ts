/**
 * The coin shop's catalog: packages of coins with prices per currency. A price is either set for a
 * currency in the catalog, or derived from the base currency's price with the configured FX rate (dated)
 * and rounded half up to the currency's ISO 4217 minor unit, then to the currency's configured step
 * (e.g. whole rupees). The server alone decides what a package costs; a client only names the package.
 * Each package also names its App Store and Google Play product ids.
 */
import { readFileSync } from 'node:fs';
import { MINOR_UNITS, SHOP_CURRENCIES, formatMinor, isShopCurrency, type ShopCurrency } from './currencies';
import type { PurchaseChannel } from '../adapters/ledger/ledger';

export interface CoinPackage {
  readonly id: string;
  readonly coins: number;
  /** Prices set by hand, in minor units, by currency (the base currency's is required). */
  readonly prices: Readonly<Partial<Record<ShopCurrency, number>>>;
  /** Store product ids selling this package. */
  readonly products: Readonly<Partial<Record<'appstore' | 'googleplay', string>>>;
}

export interface CoinCatalogData {
  readonly version: string;
  readonly baseCurrency: ShopCurrency;
  readonly fx: { readonly date: string; readonly source?: string; readonly rates: Readonly<Partial<Record<ShopCurrency, number>>> };
  readonly rounding?: Readonly<Partial<Record<ShopCurrency, { readonly stepMinor: number }>>>;
  readonly packages: readonly CoinPackage[];
  /** Countries where card purchases (Stripe) are not offered (ISO alpha-2; docs/regions.md). */
  readonly blockedCountries?: readonly string[];
}

export interface Price {
  readonly amountMinor: number;
  readonly currency: ShopCurrency;
  readonly minorUnits: number;
  readonly display: string;
  /** Set in the catalog, or derived from the base price with the FX rate of `fxDate`. */
  readonly source: 'catalog' | 'fx';
  readonly fxDate?: string;
}

export class CoinCatalog {
  private readonly byId = new Map<string, CoinPackage>();
  private readonly byProduct = new Map<string, CoinPackage>();

  constructor(readonly data: CoinCatalogData) {
    if (!isShopCurrency(data.baseCurrency)) throw new Error(`coin packages: base currency ${data.baseCurrency} is not sold`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(data.fx.date)) throw new Error('coin packages: fx.date must be YYYY-MM-DD');
    for (const c of SHOP_CURRENCIES) {
      if (c !== data.baseCurrency && !(data.fx.rates[c]! > 0)) throw new Error(`coin packages: no FX rate for ${c}`);
      const step = data.rounding?.[c]?.stepMinor;
      if (step !== undefined && !(Number.isSafeInteger(step) && step >= 1)) throw new Error(`coin packages: rounding step for ${c} must be a whole number of minor units`);
    }
    for (const c of data.blockedCountries ?? []) if (!/^[A-Z]{2}$/.test(c)) throw new Error(`coin packages: blockedCountries: ${JSON.stringify(c)} is not an ISO 3166-1 alpha-2 code`);
    for (const p of data.packages) {
      if (!/^[a-z0-9_]{1,40}$/.test(p.id)) throw new Error(`coin packages: bad id ${JSON.stringify(p.id)}`);
      if (!Number.isSafeInteger(p.coins) || p.coins < 1) throw new Error(`coin packages: ${p.id} needs a positive whole number of coins`);
      if (!(p.prices[data.baseCurrency]! > 0)) throw new Error(`coin packages: ${p.id} needs a ${data.baseCurrency} price`);
      for (const [c, v] of Object.entries(p.prices)) {
        if (!isShopCurrency(c) || !Number.isSafeInteger(v) || v < 1) throw new Error(`coin packages: ${p.id} price in ${c} must be positive minor units`);
      }
      if (this.byId.has(p.id)) throw new Error(`coin packages: duplicate id ${p.id}`);
      this.byId.set(p.id, p);
      for (const [channel, product] of Object.entries(p.products)) {
        const key = `${channel}:${product}`;
        if (this.byProduct.has(key)) throw new Error(`coin packages: ${channel} product ${product} sells two packages`);
        this.byProduct.set(key, p);
      }
    }
  }

  static fromFile(path: string): CoinCatalog {
    return new CoinCatalog(JSON.parse(readFileSync(path, 'utf8')) as CoinCatalogData);
  }

  /** Whether card purchases are offered in `country` (an unknown country is not refused). */
  sellsIn(country: string | null): boolean {
    return country === null || !(this.data.blockedCountries ?? []).includes(country);
  }

  get packages(): readonly CoinPackage[] {
    return this.data.packages;
  }

  get(id: string): CoinPackage | undefined {
    return this.byId.get(id);
  }

  /** The package a store product sells. */
  forProduct(channel: Exclude<PurchaseChannel, 'stripe'>, productId: string): CoinPackage | undefined {
    return this.byProduct.get(`${channel}:${productId}`);
  }

  /** What a package costs in a currency: the catalog's price, else derived from the base price. */
  price(pkg: CoinPackage, currency: ShopCurrency): Price {
    const minorUnits = MINOR_UNITS[currency]!;
    const set = pkg.prices[currency];
    if (set !== undefined) return { amountMinor: set, currency, minorUnits, display: formatMinor(set, currency), source: 'catalog' };
    const base = this.data.baseCurrency;
    const rate = this.data.fx.rates[currency]!;
    // base minor units → major → times rate → target minor units, rounded half up once.
    const exact = (pkg.prices[base]! / 10 ** MINOR_UNITS[base]!) * rate * 10 ** minorUnits;
    let amount = Math.floor(exact + 0.5 + 1e-9);
    const step = this.data.rounding?.[currency]?.stepMinor ?? 1;
    amount = Math.max(step, Math.floor(amount / step + 0.5) * step);
    return { amountMinor: amount, currency, minorUnits, display: formatMinor(amount, currency), source: 'fx', fxDate: this.data.fx.date };
  }

  /** A purchase's amount in the base currency (for revenue reports in one currency). */
  baseAmount(pkg: CoinPackage): number {
    return pkg.prices[this.data.baseCurrency]!;
  }
}
