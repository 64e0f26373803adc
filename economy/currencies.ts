/**
 * Currencies the shop sells in, with their ISO 4217 minor units, and which currency a country pays in.
 * Amounts are always integers of the minor unit (cents, paisa); nothing here uses floating-point money
 * except the one multiplication by an FX rate, which is rounded at once (see coin-packages.ts).
 */
export const SHOP_CURRENCIES = ['USD', 'EUR', 'NPR'] as const;
export type ShopCurrency = (typeof SHOP_CURRENCIES)[number];

/** ISO 4217 minor units (digits after the decimal point) of the shop currencies and a few for reference. */
export const MINOR_UNITS: Readonly<Record<string, number>> = { USD: 2, EUR: 2, NPR: 2, JPY: 0, KWD: 3 };

/** Euro-area countries (ISO 3166-1 alpha-2). */
const EURO = new Set(['AT', 'BE', 'HR', 'CY', 'EE', 'FI', 'FR', 'DE', 'GR', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PT', 'SK', 'SI', 'ES']);

export function isShopCurrency(c: string): c is ShopCurrency {
  return (SHOP_CURRENCIES as readonly string[]).includes(c);
}

/** The currency a country pays in, if the shop sells in it. */
export function currencyOfCountry(country: string): ShopCurrency | null {
  const c = country.toUpperCase();
  if (c === 'NP') return 'NPR';
  if (EURO.has(c)) return 'EUR';
  if (c === 'US') return 'USD';
  return null;
}

/** The region of the first language tag of an Accept-Language header that has one (`ne-NP` → `NP`). */
export function regionOfAcceptLanguage(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const tag = part.split(';')[0]!.trim();
    const m = /^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?-([A-Za-z]{2})\b/.exec(tag);
    if (m) return m[1]!.toUpperCase();
  }
  return null;
}

/**
 * Which currency a user sees: their explicit choice, else their country (the client's, then the locale's
 * region), else USD. Returns the currency and the rule that chose it.
 */
export function chooseCurrency(input: { explicit?: string; country?: string; acceptLanguage?: string }): { currency: ShopCurrency; by: 'explicit' | 'country' | 'locale' | 'default' } {
  if (input.explicit && isShopCurrency(input.explicit.toUpperCase())) return { currency: input.explicit.toUpperCase() as ShopCurrency, by: 'explicit' };
  const byCountry = input.country ? currencyOfCountry(input.country) : null;
  if (byCountry) return { currency: byCountry, by: 'country' };
  const region = regionOfAcceptLanguage(input.acceptLanguage);
  const byLocale = region ? currencyOfCountry(region) : null;
  if (byLocale) return { currency: byLocale, by: 'locale' };
  return { currency: 'USD', by: 'default' };
}

/** `1234` minor units of NPR → "NPR 12.34". */
export function formatMinor(amountMinor: number, currency: string): string {
  const digits = MINOR_UNITS[currency] ?? 2;
  const major = Math.trunc(amountMinor / 10 ** digits);
  const minor = Math.abs(amountMinor % 10 ** digits);
  return digits === 0 ? `${currency} ${major}` : `${currency} ${major}.${String(minor).padStart(digits, '0')}`;
}
