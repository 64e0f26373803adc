/**
 * Creator payouts: onboarding to Stripe Connect (Express), withdrawals that are safe for both sides, and
 * their settlement from verified webhooks. Every state change of a withdrawal is a ledger movement with an
 * op id derived from the withdrawal id:
 *
 *   requested ──withdraw:<id>──▶ (coins set aside at once in withdrawal:<id>)
 *     ├─ refused (the ledger could not cover it)
 *     ├─ pending_approval (above the approval amount) ─ approve ─▶ approved │ reject ─withdraw_return─▶ rejected
 *     ├─ review (risk signals) ─ approve ─▶ approved │ reject ─withdraw_return─▶ rejected
 *     └─ approved ─transfer, payout (keys transfer:<id>, payout:<id>)─▶ transferred
 *          ├─ payout.paid ──withdraw_paid:<id>──▶ paid (the coins leave to external:payouts)
 *          ├─ payout.failed ──withdraw_return:<id>──▶ failed (the coins come back)
 *          └─ transfer.reversed ──withdraw_return:<id>──▶ reversed
 *
 * A process that dies anywhere in between is resumed by `recover()` (at start and every minute): the
 * provider's idempotency keys make a repeated transfer or payout act once, and the ledger's op ids make a
 * repeated movement move nothing, so a withdrawal is never lost and never paid twice.
 */
import { randomUUID } from 'node:crypto';
import { KeyedLock } from '../adapters/ledger/keyed-lock';
import type { Ledger, LedgerOp } from '../adapters/ledger/ledger';
import type { ConnectEvent, ConnectGateway } from '../adapters/payments/connect-gateway';
import { OPEN_WITHDRAWAL, type PayoutAccount, type PayoutStore, type Withdrawal } from '../adapters/payouts/payout-store';
import type { ShopCurrency } from './currencies';
import { Earnings } from './earnings';
import type { PayoutPolicy } from './payout-policy';

export type PayoutErrorCode = 'OP_ID_REUSED' | 'CHANNEL_UNAVAILABLE' | 'PAYOUTS_NOT_ENABLED' | 'WITHDRAWAL_LIMIT' | 'WITHDRAWAL_OPEN' | 'NOT_WITHDRAWABLE' | 'WITHDRAWAL_STATE' | 'NOT_FOUND' | 'PROVIDER_FAILED' | 'RETRY_LATER';

export class PayoutError extends Error {
  constructor(readonly code: PayoutErrorCode, message: string, readonly detail?: Record<string, unknown>) {
    super(message);
  }
}

export interface PayoutDeps {
  readonly ledger: Ledger;
  readonly store: PayoutStore;
  readonly policy: PayoutPolicy;
  /** Null when Stripe (and its Connect webhook secret) is not configured. */
  readonly connect: ConnectGateway | null;
  /** Whether a user had a purchase reversed since `since` (risk: earnings paid with reversed money). */
  readonly hadReversal: (user: string, since: number) => Promise<boolean>;
  /** Sign-in addresses of a user (risk: creator and gifter sharing a device or network). */
  readonly signInAddresses: (user: string) => Promise<string[]>;
  readonly security: (event: { type: string; userId: string | null; detail: string }) => void;
  /** A withdrawal reached the creator's bank (Stripe's payout.paid): they are told. */
  readonly onPaid?: (w: Withdrawal) => void;
  /** Where creators land after onboarding (and when a link expired). */
  readonly returnUrl: string;
  readonly now?: () => number;
  /** Test-only crash injection at a named step (HALOBUZZ_DEBUG_CRASH_POINT). */
  readonly crashPoint?: (step: string) => void;
}

export interface WithdrawalRequest {
  readonly coins: number;
  readonly currency: ShopCurrency;
  /** The client's operation id: a retry with it answers the same withdrawal and moves nothing more. */
  readonly opId: string;
}

export class PayoutService {
  private readonly lock = new KeyedLock();
  private readonly now: () => number;
  readonly earnings: Earnings;

  constructor(private readonly deps: PayoutDeps) {
    this.now = deps.now ?? Date.now;
    this.earnings = new Earnings(deps.ledger, deps.policy.holdMs);
  }

  clock(): number {
    return this.now();
  }

  get policy(): PayoutPolicy {
    return this.deps.policy;
  }

  /** Withdrawals in these states, oldest first (the admin queue). */
  list(statuses: readonly Withdrawal['status'][]): Promise<Withdrawal[]> {
    return this.deps.store.withdrawalsIn(statuses, 1000);
  }

  /** Coins creators with a payout account earned and have not withdrawn (what the platform owes them). */
  async owed(): Promise<number> {
    let owed = 0;
    for (const user of await this.deps.store.payoutUsers()) {
      const b = await this.earnings.balance(user, this.now());
      owed += Math.max(0, b.earnedCoins - b.withdrawnCoins);
    }
    return owed;
  }

  private connect(): ConnectGateway {
    if (!this.deps.connect) throw new PayoutError('CHANNEL_UNAVAILABLE', 'payouts are not configured (STRIPE_SECRET_KEY and STRIPE_CONNECT_WEBHOOK_SECRET)');
    return this.deps.connect;
  }

  account(user: string): Promise<PayoutAccount | null> {
    return this.deps.store.account(user);
  }

  /** Creates the creator's Express account once, and a fresh onboarding link each time. */
  async openAccount(user: string, email: string | null): Promise<{ account: PayoutAccount; onboardingUrl: string; expiresAt: number }> {
    const connect = this.connect();
    return this.lock.run(`account:${user}`, async () => {
      let account = await this.deps.store.account(user);
      if (!account) {
        let state;
        try {
          state = await connect.createAccount(user, email);
        } catch (err) {
          throw new PayoutError('PROVIDER_FAILED', `the payment provider did not create the account: ${(err as Error).message}`);
        }
        account = { user, stripeAccount: state.id, detailsSubmitted: state.detailsSubmitted, payoutsEnabled: state.payoutsEnabled, requirementsDue: state.requirementsDue, disabledReason: state.disabledReason, updatedAt: this.now() };
        await this.deps.store.saveAccount(account);
      }
      const link = await connect.onboardingLink(account.stripeAccount, this.deps.returnUrl, this.deps.returnUrl).catch((err: Error) => {
        throw new PayoutError('PROVIDER_FAILED', `the payment provider did not make an onboarding link: ${err.message}`);
      });
      return { account, onboardingUrl: link.url, expiresAt: link.expiresAt };
    });
  }

  withdrawals(user: string, limit: number): Promise<Withdrawal[]> {
    return this.deps.store.withdrawalsOf(user, limit);
  }

  /**
   * Requests a withdrawal: KYC done, within the limits, nothing else open, no more than is available
   * (earned, past the hold, not yet withdrawn). The coins move to the withdrawal's account at once.
   */
  async withdraw(user: string, req: WithdrawalRequest): Promise<{ withdrawal: Withdrawal; replayed: boolean }> {
    this.connect();
    const l = this.deps.policy.data.limits;
    return this.lock.run(`user:${user}`, async () => {
      const earlier = await this.deps.store.withdrawalByRequest(user, req.opId);
      if (earlier) {
        if (earlier.coins !== req.coins || earlier.currency !== req.currency) throw new PayoutError('OP_ID_REUSED', `op id ${req.opId} was used for a different withdrawal`);
        return { withdrawal: earlier, replayed: true };
      }
      const account = await this.deps.store.account(user);
      if (!account?.payoutsEnabled) {
        throw new PayoutError('PAYOUTS_NOT_ENABLED', account ? `payouts are not enabled yet${account.disabledReason ? ` (${account.disabledReason})` : ''}: finish onboarding` : 'set up a payout account first (POST /v1/creator/payout-account)',
          account ? { requirementsDue: account.requirementsDue } : undefined);
      }
      if (req.coins < l.minCoins || req.coins > l.maxCoins) throw new PayoutError('WITHDRAWAL_LIMIT', `a withdrawal is ${l.minCoins}–${l.maxCoins} coins`, { minCoins: l.minCoins, maxCoins: l.maxCoins });
      const now = this.now();
      // At most one open at a time, so an open one is always the newest.
      if ((await this.deps.store.withdrawalsOf(user, 1)).some((w) => OPEN_WITHDRAWAL.includes(w.status))) throw new PayoutError('WITHDRAWAL_OPEN', 'a withdrawal is already in progress');
      const day = await this.deps.store.coinsSince(user, now - 86_400_000);
      const month = await this.deps.store.coinsSince(user, now - 30 * 86_400_000);
      if (day + req.coins > l.dailyCoins) throw new PayoutError('WITHDRAWAL_LIMIT', `at most ${l.dailyCoins} coins a day (${day} already)`, { dailyCoins: l.dailyCoins, used: day });
      if (month + req.coins > l.monthlyCoins) throw new PayoutError('WITHDRAWAL_LIMIT', `at most ${l.monthlyCoins} coins in 30 days (${month} already)`, { monthlyCoins: l.monthlyCoins, used: month });
      const balance = await this.earnings.balance(user, now);
      if (req.coins > balance.availableCoins) {
        throw new PayoutError('NOT_WITHDRAWABLE', balance.pendingCoins > 0 && req.coins <= balance.availableCoins + balance.pendingCoins
          ? `only ${balance.availableCoins} coins are past the ${this.deps.policy.data.holdDays}-day hold`
          : `only ${balance.availableCoins} coins are available`, { availableCoins: balance.availableCoins, pendingCoins: balance.pendingCoins });
      }
      const value = this.deps.policy.value(req.coins, req.currency);
      const w: Withdrawal = {
        id: `wd_${randomUUID().replace(/-/g, '')}`, user, requestId: req.opId, coins: req.coins, currency: value.currency, amountMinor: value.amountMinor, rateDate: value.rateDate,
        status: 'requested', reason: '', transfer: '', payout: '', decidedBy: '', createdAt: now, updatedAt: now,
      };
      // The store's unique index is the last word on "one open withdrawal", across processes too.
      if (!(await this.deps.store.createWithdrawal(w))) throw new PayoutError('WITHDRAWAL_OPEN', 'a withdrawal is already in progress');
      return { withdrawal: await this.proceed(w), replayed: false };
    });
  }

  /** From `requested`: set the coins aside, then decide (approval, review, or straight to the transfer). */
  private async proceed(w: Withdrawal): Promise<Withdrawal> {
    const held = await this.deps.ledger.apply(this.op('withdraw', w));
    if (!held.ok) {
      if (held.code === 'OP_IN_PROGRESS') throw new PayoutError('RETRY_LATER', held.message);
      await this.deps.store.updateWithdrawal(w.id, { status: 'refused', reason: held.code }, this.now());
      throw new PayoutError('NOT_WITHDRAWABLE', `the coins could not be set aside: ${held.message}`);
    }
    this.deps.crashPoint?.('withdraw:after-hold');
    const risk = await this.riskOf(w.user);
    if (risk) {
      await this.deps.store.updateWithdrawal(w.id, { status: 'review', reason: risk }, this.now());
      this.deps.security({ type: 'withdrawal_review', userId: w.user, detail: `${w.id}: ${risk}` });
    } else if (w.coins > this.deps.policy.data.limits.approvalAboveCoins) {
      await this.deps.store.updateWithdrawal(w.id, { status: 'pending_approval', reason: `above ${this.deps.policy.data.limits.approvalAboveCoins} coins` }, this.now());
    } else {
      await this.deps.store.updateWithdrawal(w.id, { status: 'approved', decidedBy: 'policy' }, this.now());
      this.deps.security({ type: 'withdrawal_approved', userId: w.user, detail: `${w.id}: ${w.coins} coins, approved by policy` });
      await this.send(w.id);
    }
    return (await this.deps.store.withdrawal(w.id))!;
  }

  /** Risk signals that send a withdrawal to a person; null when none. Recorded in the withdrawal's reason. */
  private async riskOf(user: string): Promise<string | null> {
    const { lookbackDays, reversedShareForReview } = this.deps.policy.data.risk;
    const since = this.now() - lookbackDays * 86_400_000;
    const lines = await this.earnings.lines(user, since, Number.MAX_SAFE_INTEGER);
    const total = lines.reduce((n, l) => n + l.creatorCoins, 0);
    if (total === 0) return null;
    const bySender = new Map<string, number>();
    for (const l of lines) bySender.set(l.sender, (bySender.get(l.sender) ?? 0) + l.creatorCoins);
    let reversed = 0;
    for (const [sender, coins] of bySender) if (await this.deps.hadReversal(sender, since)) reversed += coins;
    if (reversed / total >= reversedShareForReview) return `${Math.round((reversed / total) * 100)}% of recent earnings came from buyers whose purchases were reversed`;
    // Loopback and private addresses identify nothing (proxies, carrier NAT, offices): they are not signals.
    const telling = (addresses: string[]) => addresses.filter((a) => !/^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|f[cd][0-9a-f]{2}:|fe80:|::ffff:127\.)/i.test(a));
    const mine = new Set(telling(await this.deps.signInAddresses(user)));
    for (const sender of bySender.keys()) {
      const shared = telling(await this.deps.signInAddresses(sender)).find((a) => mine.has(a));
      if (shared) return `gifts from ${sender}, who signed in from the same address (${shared})`;
    }
    return null;
  }

  /** Moves the money: transfer to the connected account, then a payout to the bank; each keyed by the withdrawal. */
  private async send(id: string): Promise<void> {
    const w = (await this.deps.store.withdrawal(id))!;
    if (w.status !== 'approved' && w.status !== 'transferred') return;
    const account = await this.deps.store.account(w.user);
    const connect = this.connect();
    try {
      const transfer = w.transfer || (await connect.transfer({ withdrawal: w.id, account: account!.stripeAccount, amountMinor: w.amountMinor, currency: w.currency })).id;
      if (!w.transfer) await this.deps.store.updateWithdrawal(w.id, { status: 'transferred', transfer }, this.now());
      this.deps.crashPoint?.('withdraw:after-transfer');
      if (!w.payout) {
        const payout = await connect.payout({ withdrawal: w.id, account: account!.stripeAccount, amountMinor: w.amountMinor, currency: w.currency });
        await this.deps.store.updateWithdrawal(w.id, { payout: payout.id }, this.now());
      }
    } catch (err) {
      // Left approved or transferred: recover() retries with the same idempotency keys.
      this.deps.security({ type: 'withdrawal_send_failed', userId: w.user, detail: `${w.id}: ${(err as Error).message}` });
    }
  }

  /** An admin approves a withdrawal waiting for approval or review. */
  async approve(id: string, admin: string): Promise<Withdrawal> {
    return this.decide(id, admin, async (w) => {
      await this.deps.store.updateWithdrawal(w.id, { status: 'approved', decidedBy: admin }, this.now());
      this.deps.security({ type: 'withdrawal_approved', userId: w.user, detail: `${w.id}: ${w.coins} coins, approved by ${admin}` });
      await this.send(w.id);
    });
  }

  /** An admin rejects it: the coins go back to the creator. */
  async reject(id: string, admin: string, reason: string): Promise<Withdrawal> {
    return this.decide(id, admin, async (w) => {
      await this.settle(this.op('withdraw_return', w));
      await this.deps.store.updateWithdrawal(w.id, { status: 'rejected', decidedBy: admin, reason }, this.now());
      this.deps.security({ type: 'withdrawal_rejected', userId: w.user, detail: `${w.id}: rejected by ${admin}: ${reason}` });
    });
  }

  private async decide(id: string, admin: string, act: (w: Withdrawal) => Promise<void>): Promise<Withdrawal> {
    const found = await this.deps.store.withdrawal(id);
    if (!found) throw new PayoutError('NOT_FOUND', `no withdrawal ${id}`);
    return this.lock.run(`user:${found.user}`, async () => {
      const w = (await this.deps.store.withdrawal(id))!;
      if (w.status !== 'pending_approval' && w.status !== 'review') throw new PayoutError('WITHDRAWAL_STATE', `withdrawal ${id} is ${w.status}: nothing to decide`);
      void admin;
      await act(w);
      return (await this.deps.store.withdrawal(id))!;
    });
  }

  /** A verified Connect webhook: account state, payouts paid or failed, transfers reversed. */
  async handleConnect(event: ConnectEvent): Promise<string> {
    if (await this.deps.store.hasEvent('stripe-connect', event.id)) return 'duplicate';
    let outcome = 'ignored';
    if (event.type === 'account.updated' && event.accountState) {
      const existing = await this.deps.store.accountByStripe(event.accountState.id);
      if (existing) {
        const s = event.accountState;
        await this.deps.store.saveAccount({ ...existing, detailsSubmitted: s.detailsSubmitted, payoutsEnabled: s.payoutsEnabled, requirementsDue: s.requirementsDue, disabledReason: s.disabledReason, updatedAt: this.now() });
        outcome = s.payoutsEnabled ? 'payouts_enabled' : 'account_updated';
      }
    } else if (event.withdrawal && ['payout.paid', 'payout.failed', 'transfer.reversed'].includes(event.type)) {
      const found = await this.deps.store.withdrawal(event.withdrawal);
      if (found) {
        outcome = await this.lock.run(`user:${found.user}`, async () => {
          const w = (await this.deps.store.withdrawal(found.id))!;
          if (event.type === 'payout.paid') {
            await this.settle(this.op('withdraw_paid', w));
            await this.deps.store.updateWithdrawal(w.id, { status: 'paid' }, this.now());
            this.deps.onPaid?.(w);
            return 'paid';
          }
          // The money did not reach the creator: the coins come back (once, whichever event says so first).
          const done = await this.deps.ledger.entry(`withdraw_paid:${w.id}`);
          if (done) {
            this.deps.security({ type: 'withdrawal_late_failure', userId: w.user, detail: `${w.id}: ${event.type} after the payout was paid; settle by hand` });
            return 'ignored';
          }
          await this.settle(this.op('withdraw_return', w));
          const status = event.type === 'payout.failed' ? 'failed' : 'reversed';
          await this.deps.store.updateWithdrawal(w.id, { status, reason: event.failureMessage || event.type }, this.now());
          this.deps.security({ type: `withdrawal_${status}`, userId: w.user, detail: `${w.id}: ${event.failureMessage || event.type}; ${w.coins} coins returned` });
          return status;
        });
      }
    }
    await this.deps.store.recordEvent('stripe-connect', event.id, event.type, outcome, this.now());
    return outcome;
  }

  /** Resumes withdrawals a crash or a provider outage left mid-way. */
  async recover(): Promise<{ resumed: number }> {
    let resumed = 0;
    for (const w of await this.deps.store.withdrawalsIn(['requested', 'approved', 'transferred'], 1000)) {
      if (w.status === 'transferred' && w.payout) continue; // waiting for Stripe's payout webhook
      await this.lock.run(`user:${w.user}`, async () => {
        const fresh = (await this.deps.store.withdrawal(w.id))!;
        if (fresh.status === 'requested') await this.proceed(fresh).catch(() => undefined);
        else await this.send(fresh.id);
      });
      resumed++;
    }
    return { resumed };
  }

  /** Totals for the admin view. */
  async summary(): Promise<{ pendingApproval: { count: number; coins: number }; review: { count: number; coins: number }; inFlight: { count: number; coins: number }; failed: { count: number; coins: number }; paid: { count: number; coins: number } }> {
    const sum = async (statuses: Withdrawal['status'][]) => {
      const list = await this.deps.store.withdrawalsIn(statuses, 100_000);
      return { count: list.length, coins: list.reduce((n, w) => n + w.coins, 0) };
    };
    return { pendingApproval: await sum(['pending_approval']), review: await sum(['review']), inFlight: await sum(['requested', 'approved', 'transferred']), failed: await sum(['failed', 'reversed']), paid: await sum(['paid']) };
  }

  private op(kind: 'withdraw' | 'withdraw_paid' | 'withdraw_return', w: Withdrawal): LedgerOp {
    return { kind, opId: `${kind}:${w.id}`, user: w.user, coins: w.coins, withdrawal: w.id };
  }

  private async settle(op: LedgerOp): Promise<void> {
    const r = await this.deps.ledger.apply(op);
    if (!r.ok) {
      if (r.code === 'OP_IN_PROGRESS') throw new PayoutError('RETRY_LATER', r.message);
      throw new Error(`ledger refused ${op.opId}: ${r.code} ${r.message}`);
    }
  }
}
