/**
 * PlayGuard decides whether a player may stake, and watches results for patterns worth a person's look.
 *
 * Admission (before any coin moves): a frozen player, a self-excluded one, a blocked country, an account
 * younger than the minimum, or a stake past today's cap (UTC days) is refused with its own code. The daily
 * cap is reserved before the stake goes to the ledger and given back if the ledger refuses it.
 *
 * Flags (never block play by themselves; staff decide): a win rate whose z-score over at least `minRounds`
 * results passes `zThreshold` (wins against the chances each result had, so mixed stakes and games are
 * judged fairly); two players whose duels are many and one-sided (chip dumping); a stake within
 * `disputeWindowHours` of a disputed purchase. Each flag is stored once per player and cause.
 */
import type { AntiCheatRules, PlayLimits } from './game-config';
import type { PlayFlag, PlayResult, PlayStore, WinStats } from '../../adapters/games/play-store';

export type PlayRefusal = 'PLAY_FROZEN' | 'SELF_EXCLUDED' | 'COUNTRY_BLOCKED' | 'ACCOUNT_TOO_NEW' | 'DAILY_STAKE_LIMIT';

export interface PlayContext {
  /** The country the connection is in (ISO alpha-2), when known. */
  readonly country: string | null;
  /** When the player's account was created (ms), when known. */
  readonly accountSince: number | null;
}

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** How far a player's wins lie above what their chances predict, in standard deviations. */
export function winZScore(s: Pick<WinStats, 'wins' | 'expected' | 'variance'>): number {
  return s.variance > 0 ? (s.wins - s.expected) / Math.sqrt(s.variance) : 0;
}

export class PlayGuard {
  constructor(
    private readonly store: PlayStore,
    private readonly limits: PlayLimits,
    private readonly rules: AntiCheatRules,
    /** Every new flag (the security log, analytics). */
    private readonly onFlag: (flag: PlayFlag) => void,
  ) {}

  async admit(user: string, coins: number, ctx: PlayContext, now: number): Promise<PlayRefusal | null> {
    const r = await this.store.restrictions(user);
    if (r.frozenReason !== null) return 'PLAY_FROZEN';
    if (r.selfExcludedUntil !== null && r.selfExcludedUntil > now) return 'SELF_EXCLUDED';
    if (this.limits.blockedCountries.length > 0 && (ctx.country === null || this.limits.blockedCountries.includes(ctx.country.toUpperCase()))) {
      // Unknown counts as blocked once any country is: a block that a missing header bypasses is no block.
      return 'COUNTRY_BLOCKED';
    }
    if (this.limits.minAccountAgeDays !== null && (ctx.accountSince === null || now - ctx.accountSince < this.limits.minAccountAgeDays * 86_400_000)) {
      return 'ACCOUNT_TOO_NEW';
    }
    if (!(await this.store.reserveStake(user, utcDay(now), coins, this.limits.dailyStakeCap))) return 'DAILY_STAKE_LIMIT';
    if (r.disputedAt !== null && now - r.disputedAt < this.rules.disputeWindowHours * 3_600_000) {
      await this.flag({ id: `disputed_stake:${user}:${r.disputedAt}`, kind: 'disputed_stake', user, at: now,
        detail: `staked ${coins} coins ${Math.round((now - r.disputedAt) / 60_000)} min after a disputed purchase` });
    }
    return null;
  }

  /** The ledger refused a stake that was admitted: its coins no longer count against today's cap. */
  async release(user: string, coins: number, admittedAt: number): Promise<void> {
    await this.store.releaseStake(user, utcDay(admittedAt), coins);
  }

  /** Settled results: flags players whose wins run far above their chances. */
  async results(results: readonly PlayResult[], now: number): Promise<void> {
    for (const s of await this.store.addResults(results)) {
      const z = winZScore(s);
      if (s.rounds >= this.rules.minRounds && z >= this.rules.zThreshold) {
        await this.flag({ id: `win_rate:${s.user}:${s.game}`, kind: 'win_rate', user: s.user, at: now,
          detail: `${s.game}: ${s.wins} wins in ${s.rounds} results, ${s.expected.toFixed(1)} expected (z = ${z.toFixed(2)})` });
      }
    }
  }

  /** A finished duel between two players: flags a pair that meets often with one side nearly always winning. */
  async duel(a: string, b: string, winner: string | null, now: number): Promise<void> {
    const p = await this.store.addDuel(a, b, winner);
    if (p.duels < this.rules.pairMinDuels) return;
    const [top, loser, wins] = p.aWins >= p.bWins ? [p.a, p.b, p.aWins] : [p.b, p.a, p.bWins];
    if (wins / p.duels >= this.rules.pairOneSidedShare) {
      const detail = `${top} won ${wins} of ${p.duels} duels against ${loser}`;
      await this.flag({ id: `chip_dumping:${top}:${loser}`, kind: 'chip_dumping', user: top, at: now, detail });
      await this.flag({ id: `chip_dumping:${loser}:${top}`, kind: 'chip_dumping', user: loser, at: now, detail });
    }
  }

  private async flag(f: PlayFlag): Promise<void> {
    if (await this.store.addFlag(f)) this.onFlag(f);
  }
}
