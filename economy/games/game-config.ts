/**
 * The games' configuration (config/games.json, or HALOBUZZ_GAMES_FILE): the wheel's betting window and
 * payout table, the duel's stakes, rake and bot skill, responsible-play limits and anomaly thresholds.
 * Read and checked once at start; a table that pays more than it takes (RTP above 100%) is refused.
 */
import { readFileSync } from 'node:fs';
import { rtpOf, type PayoutTable, type Segment } from './payout-table';
import type { DuelRules } from './duel';
import type { WheelRules } from './wheel-round';

export interface PlayLimits {
  /** Coins a user may stake per UTC day, over every game; null: no cap. */
  readonly dailyStakeCap: number | null;
  /** Accounts younger than this may not play; null: no minimum. */
  readonly minAccountAgeDays: number | null;
  /** ISO 3166-1 alpha-2 codes where games are disabled. */
  readonly blockedCountries: readonly string[];
  readonly maxSelfExclusionDays: number;
}

export interface AntiCheatRules {
  /** Results a player needs before their win rate is judged. */
  readonly minRounds: number;
  /** A win rate this many standard deviations above expectation raises a flag. */
  readonly zThreshold: number;
  /** Duels two players must have had before their results are judged as chip dumping. */
  readonly pairMinDuels: number;
  /** Share of those duels one side must have won. */
  readonly pairOneSidedShare: number;
  /** A stake within this many hours of a disputed purchase raises a flag. */
  readonly disputeWindowHours: number;
}

export interface GameConfigData {
  readonly version: string;
  readonly wheel: { readonly windowMs: number; readonly pauseMs: number; readonly minStake: number; readonly maxStake: number; readonly hostShareBps: number; readonly segments: readonly Segment[] };
  readonly duel: DuelRules;
  readonly play: PlayLimits;
  readonly antiCheat: AntiCheatRules;
}

export class GameConfig {
  readonly wheelTable: PayoutTable;
  readonly wheelRules: WheelRules;

  constructor(readonly data: GameConfigData) {
    const whole = (n: unknown, min = 0) => typeof n === 'number' && Number.isSafeInteger(n) && n >= min;
    const bps = (n: unknown) => whole(n) && (n as number) <= 10_000;
    const w = data.wheel;
    if (!whole(w.windowMs, 1000) || !whole(w.pauseMs) || !whole(w.minStake, 1) || !whole(w.maxStake, w.minStake) || !bps(w.hostShareBps)) {
      throw new Error('games: wheel needs windowMs >= 1000, pauseMs, 1 <= minStake <= maxStake and hostShareBps 0–10000');
    }
    this.wheelTable = { game: 'wheel', segments: w.segments };
    const rtp = rtpOf(this.wheelTable);
    if (rtp.numerator > rtp.denominator) throw new Error(`games: the wheel returns ${(rtp.value * 100).toFixed(2)}%, more than it takes`);
    this.wheelRules = { table: this.wheelTable, minStake: w.minStake, maxStake: w.maxStake, hostShareBps: w.hostShareBps };
    const d = data.duel;
    if (!whole(d.minStake, 1) || !whole(d.maxStake, d.minStake) || !bps(d.rakeBps) || !bps(d.hostShareBps) || !bps(d.botRoundWinBps)
      || !whole(d.acceptMs, 1000) || !whole(d.moveMs, 1000) || !whole(d.winsNeeded, 1) || !whole(d.maxRounds, 2 * d.winsNeeded - 1)) {
      throw new Error('games: duel needs whole stakes, bps in 0–10000, timeouts >= 1 s and maxRounds >= 2 × winsNeeded − 1');
    }
    const p = data.play;
    if ((p.dailyStakeCap !== null && !whole(p.dailyStakeCap, 1)) || (p.minAccountAgeDays !== null && !whole(p.minAccountAgeDays, 1))
      || !p.blockedCountries.every((c) => /^[A-Z]{2}$/.test(c)) || !whole(p.maxSelfExclusionDays, 1)) {
      throw new Error('games: play limits need whole numbers (or null) and country codes like "NP"');
    }
    const a = data.antiCheat;
    if (!whole(a.minRounds, 1) || !(a.zThreshold > 0) || !whole(a.pairMinDuels, 1) || !(a.pairOneSidedShare > 0.5 && a.pairOneSidedShare <= 1) || !whole(a.disputeWindowHours)) {
      throw new Error('games: antiCheat needs minRounds, zThreshold > 0, pairMinDuels and pairOneSidedShare in (0.5, 1]');
    }
  }

  static fromFile(path: string): GameConfig {
    return new GameConfig(JSON.parse(readFileSync(path, 'utf8')) as GameConfigData);
  }
}
