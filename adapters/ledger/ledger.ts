/**
 * Ledger: the only way coins move. Every operation is a double-entry set of postings (their deltas sum
 * to zero, the external issuance account standing for money entering or leaving) keyed by an operation
 * id the caller supplies.
 *
 * Contract for implementations (tested by ledger.conformance.ts against every one of them):
 * - Atomic: an operation's postings are all applied or none is, also across a crash (completed or
 *   reversed by `recover`).
 * - Idempotent: applying an op id again returns the original result and moves nothing; the same op id
 *   with different content is refused with OP_ID_REUSED. A refused op id (INSUFFICIENT_FUNDS, already
 *   refunded) stays refused: a new attempt needs a new op id.
 * - No account outside the world (`external:*`) ever goes below zero, with one documented exception: a
 *   clawback or a hold of purchased coins may take a user's account below zero when the coins were already
 *   spent. Such a user is **in debt**: any debit of the account is refused with ACCOUNT_IN_DEBT until
 *   purchases bring it back to zero or above (docs/money.md § Debt).
 * - Conserved: the sum over all accounts is always zero, so the sum of user, platform and escrow
 *   balances (held) equals what entered from outside (issued: operator mints and purchases) minus what
 *   left (clawbacks).
 */
import { createHash } from 'node:crypto';
import type { Erasure, ErasureCounts } from '../privacy/personal-data';

export const ISSUANCE = 'external:issuance';
/** The platform's revenue account before it was kept per room (ledgers written then still hold it). */
export const PLATFORM_REVENUE = 'platform:revenue';
/**
 * The platform's share of a room's gifts: an account per room. Every gift appends a link to its platform
 * account's chain, and a room's gifts are applied by its actor alone, so no two writers (worker threads,
 * nodes) ever race for one of these chains; with one account for all rooms, the writer that lost the race
 * was starved (docs/money.md § Measured). The platform's revenue is the sum of the `platform:revenue…`
 * accounts.
 */
export const platformRevenueAccount = (room: string) => `${PLATFORM_REVENUE}:${room}`;
export const userAccount = (user: string) => `user:${user}`;
export const roundAccount = (round: string) => `game:${round}`;
/** Where one payment channel's coins come from (and go back to on a clawback). */
export const purchaseAccount = (channel: PurchaseChannel) => `external:purchases:${channel}`;
/** Coins of one purchase held while a payment review is open. */
export const heldAccount = (purchase: string) => `held:${purchase}`;
export const PURCHASE_CHANNELS = ['stripe', 'appstore', 'googleplay'] as const;
export type PurchaseChannel = (typeof PURCHASE_CHANNELS)[number];
/** The games' house: pays winnings beyond a round's stakes and keeps the margin (outside world: may go below zero). */
export const GAMES_HOUSE = 'external:games';
/** Coins of one withdrawal on their way out (they can be neither gifted nor withdrawn twice). */
export const withdrawalAccount = (withdrawal: string) => `withdrawal:${withdrawal}`;
/** Where paid-out coins go: the money left to a creator's bank. */
export const PAYOUTS = 'external:payouts';
/** Accounts standing for the world outside: only they may go below zero by design. */
export const isExternal = (account: string) => account.startsWith('external:');

export type LedgerOp =
  | { kind: 'mint'; opId: string; user: string; amount: number; source: string }
  | { kind: 'gift'; opId: string; sender: string; creator: string; room: string; stream: string; giftId: string; count: number; unitPrice: number; platformShareBps: number }
  /** `pick`: what the stake is on (a wheel segment, "duel"); `seed`: the player's client seed. A rebuilt round reads its bets back from these. */
  | { kind: 'stake'; opId: string; user: string; round: string; amount: number; pick?: string; seed?: string }
  | { kind: 'payout'; opId: string; user: string; round: string; amount: number }
  | { kind: 'refund'; opId: string; refundOf: string; reason: string }
  | { kind: 'adjust'; opId: string; user: string; delta: number; reason: string }
  /** Coins bought: from the channel's account to the user. */
  | { kind: 'purchase'; opId: string; user: string; coins: number; channel: PurchaseChannel; purchase: string }
  /** A purchase reversed (refund, dispute, revocation): back to the channel, even if that leaves the user in debt. */
  | { kind: 'clawback'; opId: string; user: string; coins: number; channel: PurchaseChannel; purchase: string }
  /** A purchase's coins set aside while its payment is reviewed (may leave the user in debt), and given back. */
  | { kind: 'hold'; opId: string; user: string; coins: number; purchase: string }
  | { kind: 'release'; opId: string; user: string; coins: number; purchase: string }
  /** A creator's withdrawal: coins set aside at once, then paid out (they leave) or returned. */
  /**
   * A game round settles at once: its whole escrow (`stakes`) goes to the winners (`payouts`:
   * "user=coins;user=coins", sorted by user), the host's share of a positive margin to the host, and the
   * rest to (or, when winners take more than was staked, from) the house.
   */
  | { kind: 'settle'; opId: string; round: string; stakes: number; payouts: string; host: string; hostShareBps: number; game?: string; proof?: string }
  | { kind: 'withdraw'; opId: string; user: string; coins: number; withdrawal: string }
  | { kind: 'withdraw_paid'; opId: string; user: string; coins: number; withdrawal: string }
  | { kind: 'withdraw_return'; opId: string; user: string; coins: number; withdrawal: string };

export interface HistoryCursor {
  readonly ts: number;
  readonly opId: string;
}

export interface Posting {
  readonly account: string;
  readonly delta: number;
  /** This debit may take the account below zero (a clawback or hold of coins already spent: debt). */
  readonly overdraw?: true;
}

export interface LedgerEntry {
  readonly opId: string;
  readonly kind: LedgerOp['kind'];
  readonly postings: readonly Posting[];
  /** The operation's fields other than opId and kind, as given. */
  readonly meta: Readonly<Record<string, string | number>>;
  readonly ts: number;
}

export type LedgerErrorCode = 'INSUFFICIENT_FUNDS' | 'ACCOUNT_IN_DEBT' | 'OP_ID_REUSED' | 'OP_IN_PROGRESS' | 'NOT_REFUNDABLE' | 'INVALID_AMOUNT';

export type LedgerResult =
  | { ok: true; entry: LedgerEntry; replayed: boolean; balances: Readonly<Record<string, number>> }
  | { ok: false; code: LedgerErrorCode; message: string };

export interface LedgerTotals {
  /** Sum of every account but the external ones (users in debt count negative). */
  readonly held: number;
  /** Coins that entered from outside: minus the sum of the external accounts (issuance and purchase channels). */
  readonly issued: number;
  /** Accounts other than external ones and users in debt below zero: must always be 0. */
  readonly negativeAccounts: number;
  /** Coins users owe after clawbacks of coins they had spent: minus the sum of negative user balances. */
  readonly debts: number;
  readonly entries: number;
  /** Entries not yet applied or reversed (only the document-store adapter has them, briefly). */
  readonly pending: number;
}

export interface Ledger {
  apply(op: LedgerOp): Promise<LedgerResult>;
  balance(account: string): Promise<number>;
  /** Entries touching `account`, newest first; `before` is the (ts, opId) of the previous page's last entry. */
  history(account: string, page: { limit: number; before?: HistoryCursor }): Promise<LedgerEntry[]>;
  entry(opId: string): Promise<LedgerEntry | null>;
  /** Applied gift entries of one live stream, oldest first (rebuilds a room's tallies and sequence). */
  giftsForStream(room: string, stream: string): Promise<LedgerEntry[]>;
  /** Completes or reverses operations a crash left half-done. Returns how many of each. */
  recover(): Promise<{ completed: number; reversed: number }>;
  /**
   * Cluster: the process whose operations carry this owner tag (`nodeOwnerTag`) is gone, its node found
   * dead. Its unfinished operations are anyone's to finish now: a retry drives its operation at once
   * instead of answering OP_IN_PROGRESS until the lease runs out. (Engines that finish every operation in
   * one transaction have nothing to hand over and leave these out.)
   */
  ownerGone?(tag: string): void;
  /** `ownerGone`, then finishes or reverses every unfinished operation of that owner now. */
  takeOver?(tag: string): Promise<{ completed: number; reversed: number }>;
  /** Audit figures for the conservation invariant. */
  totals(): Promise<LedgerTotals>;
  /**
   * Pseudonymises a user (erasure): the account `user:<id>` becomes `user:<pseudonym>` in balances, entries
   * and their postings, amounts untouched, so every sum and the conservation of coins still hold while the
   * records a law requires to be kept no longer name the person.
   */
  eraseUser(erasure: Erasure): Promise<ErasureCounts>;
  close(): Promise<void>;
}

/** The owner tag of the ledger operations a cluster node's workers run. */
export const nodeOwnerTag = (node: number): string => `node${node}`;

const OP_ID = /^[A-Za-z0-9_:.-]{8,128}$/;
const SHORT_TEXT = /^[A-Za-z0-9_:.@-]{1,64}$/;

/** Checks amounts and ids; returns a message naming the problem, or null. */
export function validateOp(op: LedgerOp): string | null {
  if (!OP_ID.test(op.opId)) return 'opId must be 8–128 characters of letters, digits and _ : . -';
  const positive = (n: number) => Number.isSafeInteger(n) && n > 0;
  switch (op.kind) {
    case 'stake':
      if ((op.pick !== undefined && !SHORT_TEXT.test(op.pick)) || (op.seed !== undefined && op.seed.length > 128)) return 'pick and seed must be short strings';
      return positive(op.amount) ? null : 'amount must be a positive whole number of coins';
    case 'mint':
    case 'payout':
      return positive(op.amount) ? null : 'amount must be a positive whole number of coins';
    case 'gift':
      if (!positive(op.count) || op.count > 9999) return 'count must be a whole number from 1 to 9999';
      if (!positive(op.unitPrice)) return 'unit price must be positive';
      if (!Number.isInteger(op.platformShareBps) || op.platformShareBps < 0 || op.platformShareBps > 10_000) return 'platform share must be 0–10000 bps';
      if (op.sender === op.creator) return 'cannot gift yourself';
      return null;
    case 'adjust':
      return Number.isSafeInteger(op.delta) && op.delta !== 0 ? null : 'delta must be a non-zero whole number';
    case 'purchase':
    case 'clawback':
      if (!(PURCHASE_CHANNELS as readonly string[]).includes(op.channel)) return `channel must be one of ${PURCHASE_CHANNELS.join(', ')}`;
      return positive(op.coins) && OP_ID.test(op.purchase) ? null : 'coins must be positive and purchase an id';
    case 'hold':
    case 'release':
      return positive(op.coins) && OP_ID.test(op.purchase) ? null : 'coins must be positive and purchase an id';
    case 'withdraw':
    case 'withdraw_paid':
    case 'withdraw_return':
      return positive(op.coins) && OP_ID.test(op.withdrawal) ? null : 'coins must be positive and withdrawal an id';
    case 'settle': {
      if (!Number.isSafeInteger(op.stakes) || op.stakes < 0) return 'stakes must be a whole number of coins';
      if (!Number.isInteger(op.hostShareBps) || op.hostShareBps < 0 || op.hostShareBps > 10_000) return 'host share must be 0–10000 bps';
      const parsed = parsePayouts(op.payouts);
      if (parsed === null) return 'payouts must be "user=coins;…" with positive whole coins, each user once, sorted';
      if ((op.game !== undefined && !SHORT_TEXT.test(op.game)) || (op.proof !== undefined && op.proof.length > 65_536)) return 'game must be a short name and proof at most 64 KiB';
      return null;
    }
    case 'refund':
      return OP_ID.test(op.refundOf) ? null : 'refundOf must be an op id';
  }
}

/**
 * The postings of an operation. A refund needs the entry it reverses. Debits come first: the document
 * store applies postings in this order, so a failing debit is found before anything was credited.
 */
export function postingsFor(op: LedgerOp, original?: LedgerEntry): Posting[] {
  let postings: Posting[];
  switch (op.kind) {
    case 'mint':
      postings = [{ account: ISSUANCE, delta: -op.amount }, { account: userAccount(op.user), delta: op.amount }];
      break;
    case 'gift': {
      const total = op.count * op.unitPrice;
      const share = Math.floor((total * op.platformShareBps) / 10_000);
      postings = [{ account: userAccount(op.sender), delta: -total }, { account: userAccount(op.creator), delta: total - share }];
      if (share > 0) postings.push({ account: platformRevenueAccount(op.room), delta: share });
      break;
    }
    case 'stake':
      postings = [{ account: userAccount(op.user), delta: -op.amount }, { account: roundAccount(op.round), delta: op.amount }];
      break;
    case 'payout':
      postings = [{ account: roundAccount(op.round), delta: -op.amount }, { account: userAccount(op.user), delta: op.amount }];
      break;
    case 'adjust':
      postings = [{ account: ISSUANCE, delta: -op.delta }, { account: userAccount(op.user), delta: op.delta }];
      break;
    case 'refund':
      if (!original) throw new Error('refund needs the original entry');
      postings = original.postings.map((p) => ({ account: p.account, delta: -p.delta }));
      break;
    case 'purchase':
      postings = [{ account: purchaseAccount(op.channel), delta: -op.coins }, { account: userAccount(op.user), delta: op.coins }];
      break;
    case 'clawback':
      postings = [{ account: userAccount(op.user), delta: -op.coins, overdraw: true }, { account: purchaseAccount(op.channel), delta: op.coins }];
      break;
    case 'hold':
      postings = [{ account: userAccount(op.user), delta: -op.coins, overdraw: true }, { account: heldAccount(op.purchase), delta: op.coins }];
      break;
    case 'release':
      postings = [{ account: heldAccount(op.purchase), delta: -op.coins }, { account: userAccount(op.user), delta: op.coins }];
      break;
    case 'settle': {
      postings = [{ account: roundAccount(op.round), delta: -op.stakes }];
      const payouts = parsePayouts(op.payouts) ?? [];
      let paid = 0;
      for (const [user, coins] of payouts) {
        postings.push({ account: userAccount(user), delta: coins });
        paid += coins;
      }
      const margin = op.stakes - paid;
      const hostShare = margin > 0 && op.host ? Math.floor((margin * op.hostShareBps) / 10_000) : 0;
      if (hostShare > 0) postings.push({ account: userAccount(op.host), delta: hostShare });
      postings.push({ account: GAMES_HOUSE, delta: margin - hostShare });
      break;
    }
    case 'withdraw':
      postings = [{ account: userAccount(op.user), delta: -op.coins }, { account: withdrawalAccount(op.withdrawal), delta: op.coins }];
      break;
    case 'withdraw_paid':
      postings = [{ account: withdrawalAccount(op.withdrawal), delta: -op.coins }, { account: PAYOUTS, delta: op.coins }];
      break;
    case 'withdraw_return':
      postings = [{ account: withdrawalAccount(op.withdrawal), delta: -op.coins }, { account: userAccount(op.user), delta: op.coins }];
      break;
  }
  return postings.filter((p) => p.delta !== 0).sort((a, b) => Math.sign(a.delta) - Math.sign(b.delta));
}

/** "alice=80;bob=150" → [[alice, 80], [bob, 150]]; null unless every amount is positive, each user once, sorted. */
export function parsePayouts(text: string): [string, number][] | null {
  if (text === '') return [];
  const out: [string, number][] = [];
  for (const part of text.split(';')) {
    const m = /^([A-Za-z0-9_:.-]{1,128})=([1-9][0-9]{0,14})$/.exec(part);
    if (!m) return null;
    const coins = Number(m[2]);
    if (!Number.isSafeInteger(coins)) return null;
    if (out.length > 0 && out.at(-1)![0] >= m[1]!) return null;
    out.push([m[1]!, coins]);
  }
  return out;
}

/** Whether a posting may leave its account below zero: external accounts always, users on a clawback or hold. */
export function mayGoNegative(p: Posting): boolean {
  return isExternal(p.account) || p.overdraw === true;
}

/** The refusal for a debit its account cannot cover: a user below zero owes coins (debt), else the funds are short. */
export function uncoveredDebit(account: string, balance: number, delta: number): { code: LedgerErrorCode; message: string } {
  return balance < 0
    ? { code: 'ACCOUNT_IN_DEBT', message: `${account} owes ${-balance} coins from a reversed purchase; spending is blocked until a purchase repays it` }
    : { code: 'INSUFFICIENT_FUNDS', message: `${account} cannot cover ${-delta}` };
}

/** Audit figures from every account's balance (both adapters compute totals this way). */
export function totalsOf(balances: Iterable<[string, number]>, entries: number, pending: number): LedgerTotals {
  let held = 0;
  let external = 0;
  let negativeAccounts = 0;
  let debts = 0;
  for (const [account, balance] of balances) {
    if (isExternal(account)) {
      external += balance;
      continue;
    }
    held += balance;
    if (balance < 0) {
      if (account.startsWith('user:')) debts -= balance;
      else negativeAccounts++;
    }
  }
  return { held, issued: -external, negativeAccounts, debts, entries, pending };
}

/** A stable digest of the operation's content (everything but its id), to spot a reused op id. */
export function fingerprint(op: LedgerOp): string {
  const { opId: _ignored, ...content } = op;
  const keys = Object.keys(content).sort();
  const canonical = JSON.stringify(keys.map((k) => [k, (content as Record<string, unknown>)[k]]));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export function metaOf(op: LedgerOp): Record<string, string | number> {
  const { opId: _id, kind: _kind, ...rest } = op;
  return rest as Record<string, string | number>;
}

/** Only these kinds can be refunded, once each. */
export const REFUNDABLE: ReadonlySet<LedgerOp['kind']> = new Set(['gift', 'mint', 'stake']);
