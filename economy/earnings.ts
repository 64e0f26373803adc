/**
 * Creator earnings, read from the ledger (the only truth about coins): every gift a creator received, with
 * the gross price, the platform's share and the creator's part, grouped per stream, per UTC day or per gift;
 * and what can be withdrawn. Only earned coins are withdrawable (bought coins never are), and only once the
 * hold has passed: available = min(balance, earnings older than the hold − coins already withdrawn or on
 * their way out).
 */
import { userAccount, withdrawalAccount, type Ledger, type LedgerEntry } from '../adapters/ledger/ledger';

export interface EarningLine {
  readonly opId: string;
  readonly ts: number;
  readonly room: string;
  readonly stream: string;
  readonly giftId: string;
  readonly sender: string;
  readonly units: number;
  readonly grossCoins: number;
  readonly platformCoins: number;
  readonly creatorCoins: number;
}

export interface EarningGroup {
  readonly key: string;
  readonly gifts: number;
  readonly units: number;
  readonly grossCoins: number;
  readonly platformCoins: number;
  readonly creatorCoins: number;
}

export interface EarningsBalance {
  /** Every coin ever earned from gifts. */
  readonly earnedCoins: number;
  /** Earned within the hold: not yet withdrawable. */
  readonly pendingCoins: number;
  /** Withdrawn (paid) or on their way out (open withdrawals). */
  readonly withdrawnCoins: number;
  readonly availableCoins: number;
  readonly balance: number;
}

/** Every ledger entry of the user's account, oldest first (pages through the whole history). */
async function allEntries(ledger: Ledger, user: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  let before: { ts: number; opId: string } | undefined;
  for (;;) {
    const page = await ledger.history(userAccount(user), { limit: 500, ...(before ? { before } : {}) });
    out.push(...page);
    if (page.length < 500) break;
    const last = page.at(-1)!;
    before = { ts: last.ts, opId: last.opId };
  }
  return out.reverse();
}

function toLine(e: LedgerEntry, user: string): EarningLine {
  const m = e.meta;
  const gross = Number(m.count) * Number(m.unitPrice);
  const creator = e.postings.find((p) => p.account === userAccount(user))?.delta ?? 0;
  return {
    opId: e.opId, ts: e.ts, room: String(m.room), stream: String(m.stream), giftId: String(m.giftId), sender: String(m.sender),
    units: Number(m.count), grossCoins: gross, platformCoins: gross - creator, creatorCoins: creator,
  };
}

export class Earnings {
  constructor(private readonly ledger: Ledger, private readonly holdMs: number) {}

  /** The gifts a creator received in [from, to), oldest first. */
  async lines(user: string, from: number, to: number): Promise<EarningLine[]> {
    return (await allEntries(this.ledger, user))
      .filter((e) => e.kind === 'gift' && e.meta.creator === user && e.ts >= from && e.ts < to)
      .map((e) => toLine(e, user));
  }

  /** Lines grouped per stream, UTC day or gift, largest creator part first. */
  static group(lines: readonly EarningLine[], by: 'stream' | 'day' | 'gift'): EarningGroup[] {
    const groups = new Map<string, { gifts: number; units: number; grossCoins: number; platformCoins: number; creatorCoins: number }>();
    for (const l of lines) {
      const key = by === 'stream' ? l.stream : by === 'gift' ? l.giftId : new Date(l.ts).toISOString().slice(0, 10);
      const g = groups.get(key) ?? { gifts: 0, units: 0, grossCoins: 0, platformCoins: 0, creatorCoins: 0 };
      g.gifts++;
      g.units += l.units;
      g.grossCoins += l.grossCoins;
      g.platformCoins += l.platformCoins;
      g.creatorCoins += l.creatorCoins;
      groups.set(key, g);
    }
    return [...groups].map(([key, g]) => ({ key, ...g })).sort((a, b) => (by === 'day' ? (a.key < b.key ? -1 : 1) : b.creatorCoins - a.creatorCoins || (a.key < b.key ? -1 : 1)));
  }

  /** What is earned, held, withdrawn and available now. */
  async balance(user: string, now: number): Promise<EarningsBalance> {
    const entries = await allEntries(this.ledger, user);
    let earned = 0;
    let matured = 0;
    let withdrawn = 0;
    const cutoff = now - this.holdMs;
    for (const e of entries) {
      if (e.kind === 'gift' && e.meta.creator === user) {
        const credit = e.postings.find((p) => p.account === userAccount(user))?.delta ?? 0;
        earned += credit;
        if (e.ts <= cutoff) matured += credit;
      } else if (e.kind === 'withdraw') {
        withdrawn += Number(e.meta.coins);
      } else if (e.kind === 'withdraw_return') {
        withdrawn -= Number(e.meta.coins);
      }
    }
    const balance = await this.ledger.balance(userAccount(user));
    return { earnedCoins: earned, pendingCoins: earned - matured, withdrawnCoins: withdrawn, availableCoins: Math.max(0, Math.min(balance, matured - withdrawn)), balance };
  }

  /** Coins currently set aside for one withdrawal. */
  inFlight(withdrawal: string): Promise<number> {
    return this.ledger.balance(withdrawalAccount(withdrawal));
  }
}
