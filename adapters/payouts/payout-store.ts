/**
 * PayoutStore: creators' payout accounts (the Stripe Connect account and its verification state) and
 * their withdrawals with every state change. Coins live in the ledger; this is the paperwork.
 */
import type { PersonalData } from '../privacy/personal-data';
export type WithdrawalStatus =
  | 'requested' | 'pending_approval' | 'review' | 'approved' | 'transferred' | 'paid' | 'failed' | 'reversed' | 'rejected' | 'refused';

/** Statuses of a withdrawal still in progress: a creator has at most one. */
export const OPEN_WITHDRAWAL: readonly WithdrawalStatus[] = ['requested', 'pending_approval', 'review', 'approved', 'transferred'];

export interface PayoutAccount {
  readonly user: string;
  readonly stripeAccount: string;
  readonly detailsSubmitted: boolean;
  readonly payoutsEnabled: boolean;
  readonly requirementsDue: readonly string[];
  readonly disabledReason: string;
  readonly updatedAt: number;
}

export interface Withdrawal {
  readonly id: string;
  readonly user: string;
  /** The client's operation id for this request: a retry with it answers the same withdrawal. */
  readonly requestId: string;
  readonly coins: number;
  readonly currency: string;
  readonly amountMinor: number;
  readonly rateDate: string;
  readonly status: WithdrawalStatus;
  readonly reason: string;
  readonly transfer: string;
  readonly payout: string;
  readonly decidedBy: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface PayoutStore extends PersonalData {
  account(user: string): Promise<PayoutAccount | null>;
  accountByStripe(stripeAccount: string): Promise<PayoutAccount | null>;
  saveAccount(account: PayoutAccount): Promise<void>;
  /** Every user with a payout account. */
  payoutUsers(): Promise<string[]>;
  /** Inserts a withdrawal; false when the user already has an open one (enforced by the store itself). */
  createWithdrawal(w: Withdrawal): Promise<boolean>;
  withdrawal(id: string): Promise<Withdrawal | null>;
  /** The user's withdrawal made with this client operation id, if any. */
  withdrawalByRequest(user: string, requestId: string): Promise<Withdrawal | null>;
  updateWithdrawal(id: string, patch: Partial<Pick<Withdrawal, 'status' | 'reason' | 'transfer' | 'payout' | 'decidedBy'>>, now: number): Promise<void>;
  /** A user's withdrawals, newest first. */
  withdrawalsOf(user: string, limit: number): Promise<Withdrawal[]>;
  /** Withdrawals in any of `statuses`, oldest first. */
  withdrawalsIn(statuses: readonly WithdrawalStatus[], limit: number): Promise<Withdrawal[]>;
  /** Coins of a user's withdrawals created since `since` that were not refused, rejected, failed or reversed. */
  coinsSince(user: string, since: number): Promise<number>;
  recordEvent(provider: string, eventId: string, type: string, outcome: string, now: number): Promise<boolean>;
  hasEvent(provider: string, eventId: string): Promise<boolean>;
  close(): Promise<void>;
}
