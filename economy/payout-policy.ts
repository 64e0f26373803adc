/**
 * The creator payout policy: how long earned coins are held before they can be withdrawn (covering the
 * chargeback window of the purchases behind them), what a coin is worth in each payout currency (a dated
 * rate, in minor units per coin: 0.5 US cents), the limits on withdrawals, and when a withdrawal waits for
 * a person (large amounts, or earnings that came largely from reversed purchases). Read once at start.
 */
import { readFileSync } from 'node:fs';
import { SHOP_CURRENCIES, formatMinor, type ShopCurrency } from './currencies';

export interface PayoutPolicyData {
  readonly version: string;
  readonly holdDays: number;
  readonly rates: { readonly date: string; readonly perCoinMinor: Readonly<Record<ShopCurrency, number>> };
  readonly limits: { readonly minCoins: number; readonly maxCoins: number; readonly dailyCoins: number; readonly monthlyCoins: number; readonly approvalAboveCoins: number };
  readonly risk: { readonly reversedShareForReview: number; readonly lookbackDays: number };
}

export class PayoutPolicy {
  constructor(readonly data: PayoutPolicyData) {
    const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
    if (!whole(data.holdDays)) throw new Error('payouts: holdDays must be a whole number of days');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(data.rates.date)) throw new Error('payouts: rates.date must be YYYY-MM-DD');
    for (const c of SHOP_CURRENCIES) if (!(data.rates.perCoinMinor[c] > 0)) throw new Error(`payouts: no rate for ${c}`);
    const l = data.limits;
    if (![l.minCoins, l.maxCoins, l.dailyCoins, l.monthlyCoins, l.approvalAboveCoins].every(whole) || l.minCoins < 1 || l.minCoins > l.maxCoins) {
      throw new Error('payouts: limits must be whole coins with 1 <= minCoins <= maxCoins');
    }
    if (!(data.risk.reversedShareForReview > 0 && data.risk.reversedShareForReview <= 1)) throw new Error('payouts: risk.reversedShareForReview must be in (0, 1]');
  }

  static fromFile(path: string): PayoutPolicy {
    return new PayoutPolicy(JSON.parse(readFileSync(path, 'utf8')) as PayoutPolicyData);
  }

  get holdMs(): number {
    return this.data.holdDays * 86_400_000;
  }

  /** What `coins` pay out in a currency, rounded down to the minor unit (never more than earned). */
  value(coins: number, currency: ShopCurrency): { amountMinor: number; currency: ShopCurrency; display: string; rateDate: string } {
    const amountMinor = Math.floor(coins * this.data.rates.perCoinMinor[currency] + 1e-9);
    return { amountMinor, currency, display: formatMinor(amountMinor, currency), rateDate: this.data.rates.date };
  }
}
