/**
 * PlayStore: what responsible play and anomaly detection remember about players across rounds, rooms and
 * worker threads: today's stakes per player (the daily cap), freezes and self-exclusions, disputed
 * purchases, running win statistics per player and game, duel results per pair, and the flags raised.
 * Coins are not here: stakes and payouts are ledger operations.
 */

import type { PersonalData } from '../privacy/personal-data';
export interface PlayRestrictions {
  /** Why staff froze this player's play, or null. */
  readonly frozenReason: string | null;
  /** Self-excluded until this time (ms), or null. */
  readonly selfExcludedUntil: number | null;
  /** When a purchase of this player was last disputed or reversed, or null. */
  readonly disputedAt: number | null;
}

/** One settled result of a player: whether they won, and their chance to, in basis points. */
export interface PlayResult {
  readonly user: string;
  readonly game: string;
  readonly won: boolean;
  readonly chanceBps: number;
}

/** A player's running statistics in one game: results, wins, expected wins and its variance. */
export interface WinStats {
  readonly user: string;
  readonly game: string;
  readonly rounds: number;
  readonly wins: number;
  readonly expected: number;
  readonly variance: number;
}

export interface PairStats {
  /** The two players, sorted. */
  readonly a: string;
  readonly b: string;
  readonly duels: number;
  readonly aWins: number;
  readonly bWins: number;
}

export type FlagKind = 'win_rate' | 'chip_dumping' | 'disputed_stake';

export interface PlayFlag {
  /** Stable per cause (one flag per player and kind until cleared), so a repeat does not pile up. */
  readonly id: string;
  readonly kind: FlagKind;
  readonly user: string;
  readonly detail: string;
  readonly at: number;
}

export interface PlayStore extends PersonalData {
  /** Adds `coins` to the user's stakes of `day` unless that would pass `cap` (null: no cap); false when refused. */
  reserveStake(user: string, day: string, coins: number, cap: number | null): Promise<boolean>;
  /** Gives back a reservation whose stake the ledger refused. */
  releaseStake(user: string, day: string, coins: number): Promise<void>;
  stakedOn(user: string, day: string): Promise<number>;
  restrictions(user: string): Promise<PlayRestrictions>;
  setFrozen(user: string, reason: string | null): Promise<void>;
  setSelfExclusion(user: string, until: number): Promise<void>;
  noteDispute(user: string, at: number): Promise<void>;
  /** Adds settled results; returns the updated statistics of each player and game touched. */
  addResults(results: readonly PlayResult[]): Promise<WinStats[]>;
  /** Adds one duel between two players (winner null: drawn); returns the pair's statistics. */
  addDuel(a: string, b: string, winner: string | null): Promise<PairStats>;
  /** Records a flag; false when one with its id exists. */
  addFlag(flag: PlayFlag): Promise<boolean>;
  flags(page: { limit: number; user?: string }): Promise<PlayFlag[]>;
  close(): Promise<void>;
}
