/**
 * One round of the room-wide wheel as a state machine, free of I/O, so the room actor (its single writer)
 * can drive it turn by turn and store it with its snapshot: open (bets taken until the deadline) → locked
 * → settled, or cancelled → refunded. Every transition returns the ledger operations it needs, with op ids
 * derived from the round and the client's bet id, so a retried bet or a settle repeated after a rebuild
 * moves coins once. The outcome is the fair draw of docs/games.md: the server seed is committed when the
 * round opens, the client seed is made from the players' own seeds (or the round id when none was sent)
 * after betting closes, and the seed is revealed at settlement.
 */
import { createHash } from 'node:crypto';
import type { LedgerEntry, LedgerOp } from '../../adapters/ledger/ledger';
import { newCommitment } from './fairness';
import { strayStakeRefunds } from './escrow';
import { payoutOf, spin, type PayoutTable, type Segment } from './payout-table';

export type WheelPhase = 'open' | 'locked' | 'settled' | 'cancelled';

export interface WheelBet {
  readonly user: string;
  readonly segment: string;
  readonly coins: number;
  /** The client's op id for the bet: a retry with it is the same bet. */
  readonly betId: string;
  readonly clientSeed: string;
}

export interface WheelRoundData {
  readonly id: string;
  readonly room: string;
  readonly host: string;
  readonly phase: WheelPhase;
  readonly serverSeed: string;
  readonly serverSeedHash: string;
  readonly opensAt: number;
  /** Betting closes here: a stored deadline, so a rebuilt room keeps it. */
  readonly locksAt: number;
  readonly bets: readonly WheelBet[];
  readonly clientSeed: string | null;
  readonly landed: string | null;
}

export type BetRefusal = 'ROUND_CLOSED' | 'UNKNOWN_SEGMENT' | 'BAD_STAKE' | 'BET_ID_REUSED';

export interface Settlement {
  readonly landed: Segment;
  readonly payouts: readonly [string, number][];
  readonly op: LedgerOp;
  /** What a player needs to verify the round (docs/games.md). */
  readonly proof: { readonly serverSeed: string; readonly serverSeedHash: string; readonly clientSeed: string; readonly nonce: number; readonly landed: string };
}

export interface WheelRules {
  readonly table: PayoutTable;
  readonly minStake: number;
  readonly maxStake: number;
  /** The host's share of a positive margin, in basis points. */
  readonly hostShareBps: number;
}

export class WheelRound {
  private constructor(private state: WheelRoundData, private readonly rules: WheelRules) {}

  /** Opens a round: commits to a fresh server seed; betting stays open for `windowMs`. */
  static open(id: string, room: string, host: string, now: number, windowMs: number, rules: WheelRules): WheelRound {
    const c = newCommitment();
    return new WheelRound({ id, room, host, phase: 'open', serverSeed: c.serverSeed, serverSeedHash: c.serverSeedHash, opensAt: now, locksAt: now + windowMs, bets: [], clientSeed: null, landed: null }, rules);
  }

  /** A round as stored (a rebuilt room actor continues it). */
  static restore(data: WheelRoundData, rules: WheelRules): WheelRound {
    return new WheelRound(data, rules);
  }

  get data(): WheelRoundData {
    return this.state;
  }

  /** What everyone may see: never the server seed before settlement. */
  publicView(): Omit<WheelRoundData, 'serverSeed'> & { serverSeed: string | null } {
    return { ...this.state, serverSeed: this.state.phase === 'settled' ? this.state.serverSeed : null };
  }

  /**
   * Takes a bet while the round is open: the stake moves to the round's escrow (op `stake:<round>:<betId>`).
   * A retry with the same bet id returns the same op (the ledger replays it); the same id for another bet is refused.
   */
  bet(bet: WheelBet, now: number): { ok: true; op: LedgerOp; replayed: boolean } | { ok: false; code: BetRefusal } {
    const s = this.state;
    const earlier = s.bets.find((b) => b.user === bet.user && b.betId === bet.betId);
    if (earlier) {
      if (earlier.segment !== bet.segment || earlier.coins !== bet.coins) return { ok: false, code: 'BET_ID_REUSED' };
      return { ok: true, op: this.stakeOp(earlier), replayed: true };
    }
    if (s.phase !== 'open' || now >= s.locksAt) return { ok: false, code: 'ROUND_CLOSED' };
    const segment = this.rules.table.segments.find((x) => x.id === bet.segment);
    if (!segment || segment.multiplierBps === 0) return { ok: false, code: 'UNKNOWN_SEGMENT' };
    if (!Number.isSafeInteger(bet.coins) || bet.coins < this.rules.minStake || bet.coins > this.rules.maxStake) return { ok: false, code: 'BAD_STAKE' };
    this.state = { ...s, bets: [...s.bets, bet] };
    return { ok: true, op: this.stakeOp(bet), replayed: false };
  }

  /**
   * The bets as the ledger holds them (the round's escrow history): a rebuilt round trusts the ledger, not
   * its stored copy, so a stake committed just before a crash is neither lost nor counted twice. Only while
   * open: a locked round's client seed was fixed from the bets it had.
   */
  adoptLedgerBets(entries: readonly LedgerEntry[]): void {
    if (this.state.phase !== 'open') return;
    const bets: WheelBet[] = [];
    for (const e of entries) {
      const bet = this.betOfEntry(e);
      if (bet) bets.push(bet);
    }
    this.state = { ...this.state, bets };
  }

  /**
   * Stakes in the escrow that are not bets of this round (a stake that landed after the round locked, on
   * an old owner during a move): each is refunded, so nothing is left in the escrow.
   */
  strayStakeRefunds(entries: readonly LedgerEntry[]): LedgerOp[] {
    return strayStakeRefunds(entries, new Set(this.state.bets.map((b) => this.stakeOpId(b))), 'stake arrived after the round locked');
  }

  private betOfEntry(e: LedgerEntry): WheelBet | null {
    if (e.kind !== 'stake') return null;
    const prefix = `stake:${this.state.id}:`;
    const user = e.meta.user as string;
    if (!e.opId.startsWith(`${prefix}${user}:`)) return null;
    return { user, segment: String(e.meta.pick ?? ''), coins: e.meta.amount as number, betId: e.opId.slice(prefix.length + user.length + 1), clientSeed: String(e.meta.seed ?? '') };
  }

  /** A bet whose stake the ledger refused (no funds, in debt) is taken back out of the round. */
  dropBet(user: string, betId: string): void {
    this.state = { ...this.state, bets: this.state.bets.filter((b) => !(b.user === user && b.betId === betId)) };
  }

  /** Closes betting (at the stored deadline) and fixes the client seed from the players' seeds. */
  lock(): void {
    if (this.state.phase !== 'open') return;
    const seeds = this.state.bets.map((b) => b.clientSeed).filter(Boolean);
    const clientSeed = seeds.length === 0 ? this.state.id : createHash('sha256').update(seeds.join('\n')).digest('hex');
    this.state = { ...this.state, phase: 'locked', clientSeed };
  }

  /** Spins and settles: one ledger op for the whole round (`settle:<round>`), and the proof. Idempotent. */
  settle(): Settlement {
    if (this.state.phase === 'open') this.lock();
    if (this.state.phase === 'cancelled') throw new Error(`round ${this.state.id} was cancelled`);
    const s = this.state;
    const landed = spin(this.rules.table, s.serverSeed, s.clientSeed!, 1);
    const byUser = new Map<string, number>();
    for (const b of s.bets) {
      const segment = this.rules.table.segments.find((x) => x.id === b.segment)!;
      const won = payoutOf(b.coins, segment, landed);
      if (won > 0) byUser.set(b.user, (byUser.get(b.user) ?? 0) + won);
    }
    const payouts = [...byUser].sort(([a], [b]) => (a < b ? -1 : 1));
    const stakes = s.bets.reduce((n, b) => n + b.coins, 0);
    this.state = { ...s, phase: 'settled', landed: landed.id };
    const proof = { serverSeed: s.serverSeed, serverSeedHash: s.serverSeedHash, clientSeed: s.clientSeed!, nonce: 1, landed: landed.id };
    return {
      landed, payouts,
      op: {
        kind: 'settle', opId: `settle:${s.id}`, round: s.id, stakes, payouts: payouts.map(([u, c]) => `${u}=${c}`).join(';'), host: s.host, hostShareBps: this.rules.hostShareBps,
        game: 'wheel', proof: JSON.stringify({ game: 'wheel', ...proof, table: this.rules.table.segments, bets: s.bets.length }),
      },
      proof,
    };
  }

  /** Cancels an unsettled round (the room ended, the game was switched off): every stake is refunded once. */
  cancel(): LedgerOp[] {
    if (this.state.phase === 'settled') throw new Error(`round ${this.state.id} is already settled`);
    this.state = { ...this.state, phase: 'cancelled' };
    return this.state.bets.map((b) => ({ kind: 'refund', opId: `refund:${this.state.id}:${b.user}:${b.betId}`, refundOf: this.stakeOpId(b), reason: 'round cancelled' }));
  }

  private stakeOpId(b: WheelBet): string {
    return `stake:${this.state.id}:${b.user}:${b.betId}`;
  }

  private stakeOp(b: WheelBet): LedgerOp {
    return { kind: 'stake', opId: this.stakeOpId(b), user: b.user, round: this.state.id, amount: b.coins, pick: b.segment, ...(b.clientSeed ? { seed: b.clientSeed } : {}) };
  }
}
