/** PlayStore on an embedded SQLite file (data/games.sqlite), shared by the worker threads and the API of one node. */
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import type { PairStats, PlayFlag, PlayRestrictions, PlayResult, PlayStore, WinStats } from './play-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS play_daily (user TEXT NOT NULL, day TEXT NOT NULL, staked INTEGER NOT NULL, PRIMARY KEY (user, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS play_users (user TEXT PRIMARY KEY, frozen_reason TEXT, self_excluded_until INTEGER, disputed_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS play_stats (user TEXT NOT NULL, game TEXT NOT NULL, rounds INTEGER NOT NULL, wins INTEGER NOT NULL,
  expected REAL NOT NULL, variance REAL NOT NULL, PRIMARY KEY (user, game)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS play_pairs (a TEXT NOT NULL, b TEXT NOT NULL, duels INTEGER NOT NULL, a_wins INTEGER NOT NULL, b_wins INTEGER NOT NULL,
  PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS play_flags (id TEXT PRIMARY KEY, kind TEXT NOT NULL, user TEXT NOT NULL, detail TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS play_flags_at ON play_flags (at);
`;

/** Play limits, self-exclusion, results and duel pairs; anomaly flags are erased but not exported (anti-fraud). Stakes and payouts are ledger entries. */
const PERSONAL = [
  { table: 'play_daily', section: 'game_stakes_daily', owner: ['user'], erase: 'delete' },
  { table: 'play_users', section: 'game_restrictions', owner: ['user'], erase: 'delete' },
  { table: 'play_stats', section: 'game_results', owner: ['user'], erase: 'delete' },
  { table: 'play_pairs', section: 'game_duel_pairs', owner: ['a', 'b'], erase: 'delete' },
  { table: 'play_flags', section: null, owner: ['user'], erase: 'delete', json: ['detail'] },
] as const;

export class SqlitePlayStore implements PlayStore {
  private readonly personal: PersonalData;
  private readonly db: Database.Database;
  private readonly reserve: (user: string, day: string, coins: number, cap: number | null) => boolean;
  private readonly results: (results: readonly PlayResult[]) => WinStats[];
  private readonly duel: (a: string, b: string, winner: string | null) => PairStats;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.personal = sqlitePersonalData(this.db, PERSONAL);
    this.db.exec(SCHEMA);
    const db = this.db;
    const staked = db.prepare('SELECT staked FROM play_daily WHERE user = ? AND day = ?');
    const add = db.prepare(`INSERT INTO play_daily (user, day, staked) VALUES (?, ?, ?)
      ON CONFLICT(user, day) DO UPDATE SET staked = staked + excluded.staked`);
    this.reserve = db.transaction((user: string, day: string, coins: number, cap: number | null) => {
      const now = (staked.get(user, day) as { staked: number } | undefined)?.staked ?? 0;
      if (cap !== null && now + coins > cap) return false;
      add.run(user, day, coins);
      return true;
    });
    const addStat = db.prepare(`INSERT INTO play_stats (user, game, rounds, wins, expected, variance) VALUES (?, ?, 1, ?, ?, ?)
      ON CONFLICT(user, game) DO UPDATE SET rounds = rounds + 1, wins = wins + excluded.wins, expected = expected + excluded.expected,
      variance = variance + excluded.variance RETURNING user, game, rounds, wins, expected, variance`);
    this.results = db.transaction((results: readonly PlayResult[]) => {
      const out = new Map<string, WinStats>();
      for (const r of results) {
        const p = r.chanceBps / 10_000;
        out.set(`${r.user}\n${r.game}`, addStat.get(r.user, r.game, r.won ? 1 : 0, p, p * (1 - p)) as WinStats);
      }
      return [...out.values()];
    });
    const addPair = db.prepare(`INSERT INTO play_pairs (a, b, duels, a_wins, b_wins) VALUES (?, ?, 1, ?, ?)
      ON CONFLICT(a, b) DO UPDATE SET duels = duels + 1, a_wins = a_wins + excluded.a_wins, b_wins = b_wins + excluded.b_wins
      RETURNING a, b, duels, a_wins AS aWins, b_wins AS bWins`);
    this.duel = (x, y, winner) => {
      const [a, b] = x < y ? [x, y] : [y, x];
      return addPair.get(a, b, winner === a ? 1 : 0, winner === b ? 1 : 0) as PairStats;
    };
  }

  async reserveStake(user: string, day: string, coins: number, cap: number | null): Promise<boolean> {
    return this.reserve(user, day, coins, cap);
  }

  async releaseStake(user: string, day: string, coins: number): Promise<void> {
    this.db.prepare('UPDATE play_daily SET staked = max(0, staked - ?) WHERE user = ? AND day = ?').run(coins, user, day);
  }

  async stakedOn(user: string, day: string): Promise<number> {
    return (this.db.prepare('SELECT staked FROM play_daily WHERE user = ? AND day = ?').get(user, day) as { staked: number } | undefined)?.staked ?? 0;
  }

  async restrictions(user: string): Promise<PlayRestrictions> {
    const row = this.db.prepare('SELECT frozen_reason AS frozenReason, self_excluded_until AS selfExcludedUntil, disputed_at AS disputedAt FROM play_users WHERE user = ?')
      .get(user) as PlayRestrictions | undefined;
    return row ?? { frozenReason: null, selfExcludedUntil: null, disputedAt: null };
  }

  async setFrozen(user: string, reason: string | null): Promise<void> {
    this.db.prepare('INSERT INTO play_users (user, frozen_reason) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET frozen_reason = excluded.frozen_reason').run(user, reason);
  }

  async setSelfExclusion(user: string, until: number): Promise<void> {
    // Self-exclusion only ever grows: a player cannot shorten it while it runs.
    this.db.prepare(`INSERT INTO play_users (user, self_excluded_until) VALUES (?, ?)
      ON CONFLICT(user) DO UPDATE SET self_excluded_until = max(COALESCE(self_excluded_until, 0), excluded.self_excluded_until)`).run(user, until);
  }

  async noteDispute(user: string, at: number): Promise<void> {
    this.db.prepare(`INSERT INTO play_users (user, disputed_at) VALUES (?, ?)
      ON CONFLICT(user) DO UPDATE SET disputed_at = max(COALESCE(disputed_at, 0), excluded.disputed_at)`).run(user, at);
  }

  async addResults(results: readonly PlayResult[]): Promise<WinStats[]> {
    return results.length === 0 ? [] : this.results(results);
  }

  async addDuel(a: string, b: string, winner: string | null): Promise<PairStats> {
    return this.duel(a, b, winner);
  }

  async addFlag(flag: PlayFlag): Promise<boolean> {
    return this.db.prepare('INSERT OR IGNORE INTO play_flags (id, kind, user, detail, at) VALUES (?, ?, ?, ?, ?)').run(flag.id, flag.kind, flag.user, flag.detail, flag.at).changes === 1;
  }

  async flags(page: { limit: number; user?: string }): Promise<PlayFlag[]> {
    const rows = page.user === undefined
      ? this.db.prepare('SELECT id, kind, user, detail, at FROM play_flags ORDER BY at DESC, id LIMIT ?').all(page.limit)
      : this.db.prepare('SELECT id, kind, user, detail, at FROM play_flags WHERE user = ? ORDER BY at DESC, id LIMIT ?').all(page.user, page.limit);
    return rows as PlayFlag[];
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
