/**
 * A game's payout table and its exact return to player (RTP). A wheel is segments with integer weights
 * (chances out of the total weight) and payout multipliers in basis points (a 5× segment pays 50,000 bps
 * of the stake, stake included); a segment with multiplier 0 is the house's and takes no bets. A bet on
 * segment i returns weight_i × multiplier_i / (total weight × 10,000) of its stake on average: that is its
 * RTP, computed with integers, so a configured 95% is checked exactly, not estimated. A fair table gives
 * every bettable segment the same RTP (no bet is better than another). Outcomes are drawn with
 * fairness.uniformInt over the total weight.
 */
import { uniformInt } from './fairness';

export interface Segment {
  readonly id: string;
  readonly weight: number;
  /** What a winning stake returns, in basis points of the stake (20,000 = 2×, stake included). */
  readonly multiplierBps: number;
}

export interface PayoutTable {
  readonly game: string;
  readonly segments: readonly Segment[];
}

export interface ExactRtp {
  readonly numerator: bigint;
  readonly denominator: bigint;
  readonly value: number;
}

/** The exact RTP of a bet on each bettable segment. */
export function segmentRtps(table: PayoutTable): Map<string, ExactRtp> {
  let total = 0n;
  for (const s of table.segments) {
    if (!Number.isSafeInteger(s.weight) || s.weight < 1) throw new Error(`${table.game}: segment ${s.id} needs a positive whole weight`);
    if (!Number.isSafeInteger(s.multiplierBps) || s.multiplierBps < 0) throw new Error(`${table.game}: segment ${s.id} needs a whole multiplier`);
    total += BigInt(s.weight);
  }
  const out = new Map<string, ExactRtp>();
  for (const s of table.segments) {
    if (s.multiplierBps === 0) continue;
    const numerator = BigInt(s.weight) * BigInt(s.multiplierBps);
    const denominator = total * 10_000n;
    out.set(s.id, { numerator, denominator, value: Number(numerator) / Number(denominator) });
  }
  return out;
}

/** The table's RTP: the best a player can get (every segment's, when the table is fair). */
export function rtpOf(table: PayoutTable): ExactRtp {
  let best: ExactRtp | null = null;
  for (const r of segmentRtps(table).values()) if (!best || r.numerator * best.denominator > best.numerator * r.denominator) best = r;
  if (!best) throw new Error(`${table.game}: no segment takes bets`);
  return best;
}

/** Which segment a fair draw lands on: a uniform number in [0, total weight) walked over the segments. */
export function spin(table: PayoutTable, serverSeed: string, clientSeed: string, nonce: number): Segment {
  const total = table.segments.reduce((n, s) => n + s.weight, 0);
  let x = uniformInt(serverSeed, clientSeed, nonce, total);
  for (const s of table.segments) {
    if (x < s.weight) return s;
    x -= s.weight;
  }
  throw new Error('unreachable: the draw is below the total weight');
}

/** What a stake on `segment` returns when the wheel stops on `landed` (floor: never pays a fraction of a coin more). */
/** The wheel this server ships: every bet returns exactly 95% on average (weights out of 400). */
export const WHEEL: PayoutTable = {
  game: 'wheel',
  segments: [
    { id: 'x2', weight: 190, multiplierBps: 20_000 },
    { id: 'x5', weight: 76, multiplierBps: 50_000 },
    { id: 'x10', weight: 38, multiplierBps: 100_000 },
    { id: 'x20', weight: 19, multiplierBps: 200_000 },
    { id: 'house', weight: 77, multiplierBps: 0 },
  ],
};

export function payoutOf(stake: number, segment: Segment, landed: Segment): number {
  return segment.id === landed.id ? Math.floor((stake * segment.multiplierBps) / 10_000) : 0;
}
